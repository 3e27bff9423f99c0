import type { Policy } from '../core/policy.js';
import { scrapesRead } from '../core/onset-in-step.js';
import { detectionGrid, detectRegression, needsScrapes } from '../core/regression.js';
import type { DetectionInput } from '../core/regression.js';
import { checkNeighbours, neighbourNames } from '../core/regression-neighbours.js';
import { firstDetection } from '../core/regression-scan.js';
import { querySpan } from '../core/regression-series.js';
import type { RawServiceSeries } from '../core/regression-series.js';
import type { Regression } from '../core/regression-types.js';
import { revisionSplitOf, type ReplicaSetRevision, type RevisionSplit } from '../core/revision-split.js';
import { MetricSourceError } from './source.js';
import type { MetricSource, RangeQuery } from './source.js';

// Fetches what detection needs from a source (the deployed service and its neighbours, over the
// baseline window up to `now` and nothing later) and runs the pure detector on it.

export interface DetectRequest {
  namespace: string;
  service: string;
  deployStart: number;
  now: number;
  policy: Policy;
  /** The Deployment's ReplicaSets, for the split by revision; without them pods are placed by first appearance. */
  replicaSets?: readonly ReplicaSetRevision[] | undefined;
}

export interface DetectResult {
  regression: Regression;
  neighbours: Regression[];
  /** The regression's 5xx share by revision, when the series carry a pod label. */
  split?: RevisionSplit | undefined;
}

/** Neighbours are fetched a few at a time so one evaluation does not flood Prometheus. */
const CONCURRENCY = 4;

async function fetchAll(source: MetricSource, base: Omit<RangeQuery, 'service'>, services: readonly string[]): Promise<RawServiceSeries[]> {
  const out: RawServiceSeries[] = [];
  for (let i = 0; i < services.length; i += CONCURRENCY) {
    const batch = services.slice(i, i + CONCURRENCY).map((service) => source.rangeQuery({ ...base, service }));
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

async function neighbourSeries(source: MetricSource, req: DetectRequest): Promise<RawServiceSeries[]> {
  const grid = detectionGrid(req.deployStart, req.now, req.policy);
  const seen = req.policy.metrics.neighbours ? [] : await source.listServices(req.namespace, grid.start, grid.end);
  return fetchAll(source, { namespace: req.namespace, ...querySpan(grid) }, neighbourNames(seen, req.service, req.policy));
}

async function neighboursAt(source: MetricSource, req: DetectRequest): Promise<Regression[]> {
  const others = await neighbourSeries(source, req);
  return checkNeighbours({ series: others, service: req.service, deployStart: req.deployStart, now: req.now, policy: req.policy });
}

async function ownSeries(source: MetricSource, req: DetectRequest): Promise<RawServiceSeries> {
  const grid = detectionGrid(req.deployStart, req.now, req.policy);
  return source.rangeQuery({ namespace: req.namespace, service: req.service, ...querySpan(grid) });
}

/**
 * The service's scrapes around the deploy start up to `now`, when the source can give them; a
 * policy query the source cannot read raw (not a plain selector) leaves the onset on the grid.
 */
async function scrapedAround(source: MetricSource, req: DetectRequest): Promise<RawServiceSeries | undefined> {
  if (!source.scrapedSamples) return undefined;
  const stepMs = req.policy.metrics.stepMs ?? 0;
  // A step more before the span, so its first scrape has a reference sample.
  const read = scrapesRead(req.deployStart, req.now);
  const span = { start: read.start - stepMs, end: read.end };
  try {
    return await source.scrapedSamples({ namespace: req.namespace, service: req.service, ...span, stepMs });
  } catch (err) {
    if (err instanceof MetricSourceError && err.kind === 'invalid-query') return undefined;
    throw err;
  }
}

/** Detection as of `input.now`, reading the scrapes around the deploy start when its onset needs them. */
async function detectWithScrapes(source: MetricSource, req: DetectRequest, input: DetectionInput): Promise<Regression> {
  const regression = detectRegression(input);
  if (!needsScrapes(regression, req.deployStart, req.now, req.policy)) return regression;
  const scraped = await scrapedAround(source, req);
  return scraped ? detectRegression({ ...input, scraped }) : regression;
}

/** The raw series detection reads as of `now`: the service's and its neighbours' (R9 reads the same). */
export async function seriesFromSource(source: MetricSource, req: DetectRequest): Promise<{ own: RawServiceSeries; neighbours: RawServiceSeries[] }> {
  return { own: await ownSeries(source, req), neighbours: await neighbourSeries(source, req) };
}

/** Detection for the deployed service and its neighbours as of `now`. Source errors propagate. */
export async function detectFromSource(source: MetricSource, req: DetectRequest): Promise<DetectResult> {
  // The neighbours are read while the service's own series is: an evaluation waits for the slower, not the sum.
  const detectOwn = async () => {
    const own = await ownSeries(source, req);
    return { own, regression: await detectWithScrapes(source, req, { series: own, deployStart: req.deployStart, now: req.now, policy: req.policy }) };
  };
  const [{ own, regression }, neighbours] = await Promise.all([detectOwn(), neighboursAt(source, req)]);
  return { regression, neighbours, split: revisionSplitOf({ ...req, series: own, regression }) };
}

/**
 * When the deployed service's regression became detectable, scanning every step up to `until`
 * (one fetch, then no hindsight): the regression and the neighbours as of that moment, with `at`
 * set; when nothing was detected by `until`, the picture as of `until` with `at` undefined.
 */
export async function firstDetectionFromSource(
  source: MetricSource,
  req: Omit<DetectRequest, 'now'> & { until: number },
): Promise<DetectResult & { at: number | undefined }> {
  const atUntil = { ...req, now: req.until };
  const own = await ownSeries(source, atUntil);
  const found = firstDetection({ series: own, deployStart: req.deployStart, policy: req.policy }, req.until);
  const now = found?.at ?? req.until;
  const regression = await detectWithScrapes(source, { ...req, now }, { series: own, deployStart: req.deployStart, now, policy: req.policy });
  return {
    at: found?.at,
    regression,
    neighbours: await neighboursAt(source, { ...req, now }),
    split: revisionSplitOf({ ...req, now, series: own, regression }),
  };
}

/**
 * R2 for replay: when the deployed service did not regress, the first neighbour whose regression
 * became detectable with its onset inside the deploy's R1 window ([deployStart, onsetUntil]), as of
 * that moment; the human alert for the deploy names it as evidence. `explained` drops a neighbour
 * regression that something else accounts for (its own deploy). Undefined when none qualifies.
 */
export async function firstNeighbourDetection(
  source: MetricSource,
  req: Omit<DetectRequest, 'now'> & { until: number; onsetUntil: number; explained: (r: Regression) => boolean },
): Promise<(DetectResult & { at: number }) | undefined> {
  let first: { at: number; regression: Regression } | undefined;
  for (const series of await neighbourSeries(source, { ...req, now: req.until })) {
    const found = firstDetection({ series, deployStart: req.deployStart, policy: req.policy }, first?.at ?? req.until);
    const onset = found?.regression.onset;
    if (found === undefined || onset === undefined || onset < req.deployStart || onset > req.onsetUntil || req.explained(found.regression)) continue;
    if (first === undefined || found.at < first.at) first = found;
  }
  if (first === undefined) return undefined;
  return { at: first.at, regression: first.regression, neighbours: await neighboursAt(source, { ...req, now: first.at }) };
}
