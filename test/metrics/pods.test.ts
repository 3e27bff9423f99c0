import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, type Policy } from '../../src/core/policy.js';
import { detectionGrid } from '../../src/core/regression.js';
import { querySpan } from '../../src/core/regression-series.js';
import { podCounts, type ReplicaSetRevision } from '../../src/core/revision-split.js';
import { detectFromSource } from '../../src/metrics/detect.js';
import { OpenMetricsFileSource } from '../../src/metrics/openmetrics-file.js';
import { PrometheusSource } from '../../src/metrics/prometheus.js';
import type { MetricSource } from '../../src/metrics/source.js';
import { step } from '../support/metric-scenarios.js';
import { podSeries } from '../support/pod-series.js';
import { startPrometheus, toOpenMetrics, type RunningPrometheus } from '../support/prometheus.js';

// Per-pod counters through both sources: the same scrapes backfilled into a real Prometheus and
// written to an OpenMetrics file must give the same pods, the same per-pod counts and the same
// split by revision. Two pods of the old ReplicaSet serve from the start; the new ReplicaSet's pod
// starts 20 s after the deploy (inside a 15 s scrape grid) and answers 12% 5xx.

const STEP = 15_000;
const MIN = 60_000;
const START = Date.UTC(2026, 2, 2, 9, 0, 0);
const DEPLOY = START + 40 * MIN + 5_000;
const END = DEPLOY + 10 * MIN;
const NOW = DEPLOY + 4 * MIN;
const OLD_RS = 'checkout-6c8b9f7d4';
const NEW_RS = 'checkout-7d9f5c8b6';
const replicaSets: ReplicaSetRevision[] = [
  { name: OLD_RS, revision: 3 },
  { name: NEW_RS, revision: 4 },
];

const policy = (metrics: Partial<Policy['metrics']> = {}): Policy => ({ ...DEFAULT_POLICY, metrics: { ...DEFAULT_POLICY.metrics, stepMs: STEP, ...metrics } });

function scrapes(oldShare: (t: number) => number, newShare: (t: number) => number): string {
  const common = { stepMs: STEP, end: END, rate: () => 10 };
  return toOpenMetrics([
    podSeries(`${OLD_RS}-abcde`, { ...common, seed: 21, start: START, errorShare: oldShare }),
    podSeries(`${OLD_RS}-fghij`, { ...common, seed: 22, start: START, errorShare: oldShare }),
    podSeries(`${NEW_RS}-klmno`, { ...common, seed: 23, start: START, errorShare: newShare }, DEPLOY + 20_000),
  ]);
}

const newFailing = scrapes(() => 0.005, () => 0.12);
const oldFailing = scrapes(step(DEPLOY + 30_000, 0.005, 0.12), () => 0.005);
const running: RunningPrometheus[] = [];

beforeAll(async () => {
  running.push(await startPrometheus(newFailing), await startPrometheus(oldFailing));
}, 120_000);

afterAll(async () => {
  for (const p of running) await p.stop();
});

const prometheus = (i: number, p: Policy): MetricSource => new PrometheusSource({ url: running[i]?.url ?? '', metrics: p.metrics });
const file = (text: string, p: Policy): MetricSource => new OpenMetricsFileSource(text, p.metrics);

async function perPod(source: MetricSource, p: Policy) {
  const grid = detectionGrid(DEPLOY, NOW, p);
  const raw = await source.rangeQuery({ namespace: 'shop', service: 'checkout', ...querySpan(grid) });
  return { raw, counts: raw.pods === undefined ? undefined : podCounts(raw.pods, grid, DEPLOY, DEPLOY) };
}

describe('R1 the sources return request and 5xx counters per pod', () => {
  it('both sources give the same pods, the same per-pod counts and when each pod appeared', async () => {
    const viaProm = await perPod(prometheus(0, policy()), policy());
    const viaFile = await perPod(file(newFailing, policy()), policy());
    expect(viaProm.raw.pods?.map((p) => p.pod)).toEqual([`${OLD_RS}-abcde`, `${OLD_RS}-fghij`, `${NEW_RS}-klmno`]);
    expect(viaProm.counts).toEqual(viaFile.counts);
    expect(viaProm.counts?.map((c) => c.appeared)).toEqual(['before', 'before', 'after']);
    expect(viaProm.counts?.[2]?.baseline).toEqual({ k: 0, n: 0 });
    expect(viaProm.counts?.[2]?.regression.n).toBeGreaterThan(1000);
  });

  it('the pod label is the policy\'s: another label name reads no pods, and an empty one turns the grouping off', async () => {
    for (const p of [policy({ podLabel: 'kubernetes_pod_name' }), policy({ podLabel: '' })]) {
      const viaProm = await perPod(prometheus(0, p), p);
      expect(viaProm.raw.requests.length).toBeGreaterThan(0);
      expect(viaProm.raw.pods).toBeUndefined();
      expect((await perPod(file(newFailing, p), p)).raw.pods).toBeUndefined();
    }
  });
});

describe('R1/R2 the split by revision through Prometheus and the file', () => {
  it.each([
    { name: 'errors in the new ReplicaSet\'s pod', i: 0, text: newFailing, kind: 'new-revision' },
    { name: 'errors in the old ReplicaSet\'s pods', i: 1, text: oldFailing, kind: 'old-revision' },
  ])('$name: $kind, the same through both sources, by ReplicaSets and by first appearance', async ({ i, text, kind }) => {
    for (const rs of [replicaSets, undefined]) {
      const req = { namespace: 'shop', service: 'checkout', deployStart: DEPLOY, now: NOW, policy: policy(), replicaSets: rs };
      const viaProm = await detectFromSource(prometheus(i, policy()), req);
      const viaFile = await detectFromSource(file(text, policy()), req);
      expect(viaProm.regression.signal).toBe('error-rate');
      expect(viaProm.split).toEqual(viaFile.split);
      expect(viaProm.split?.kind).toBe(kind);
    }
  });

  it('no pod label: no split (nothing changes)', async () => {
    const p = policy({ podLabel: '' });
    const found = await detectFromSource(prometheus(0, p), { namespace: 'shop', service: 'checkout', deployStart: DEPLOY, now: NOW, policy: p, replicaSets });
    expect(found.regression.signal).toBe('error-rate');
    expect(found.split).toBeUndefined();
  });
});
