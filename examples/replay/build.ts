import { formatInstant } from '../../src/core/duration.js';
import type { RawServiceSeries } from '../../src/core/regression-series.js';
import { toLog } from '../../test/fixtures/audit/builders.js';
import { rng } from '../../test/support/metric-scenarios.js';
import { Ids, MINUTE } from './cluster.js';
import { backgroundNoise, cronJobs } from './noise.js';
import { LOG_END, LOG_START, SITUATIONS, type Expectation } from './situations.js';
import { openMetrics, scrape } from './traffic.js';

// Builds the replay example from one seed: the audit log, the OpenMetrics file and the expected
// verdicts, as strings. Same seed, same bytes.

export const SEED = 20260302;

export interface ReplayExample {
  audit: string;
  metrics: string;
  expected: string;
}

/** How much traffic history each namespace's metrics hold around its deploys. */
const BEFORE_MS = 35 * MINUTE;
const AFTER_MS = 45 * MINUTE;

function expectedJson(rows: readonly Expectation[]): string {
  const deploys = [...rows]
    .sort((a, b) => a.deployStart - b.deployStart)
    .map((r) => ({ situation: r.situation, namespace: r.namespace, deployment: r.deployment, deployStart: formatInstant(r.deployStart), verdict: r.verdict, contains: r.contains }));
  return `${JSON.stringify({ generatedBy: 'npm run examples:generate', seed: SEED, deploys }, null, 2)}\n`;
}

export function buildReplayExample(seed = SEED): ReplayExample {
  const random = rng(seed);
  const ids = new Ids(random);
  const situations = SITUATIONS.map((build) => build(ids));

  const workloads = situations.flatMap((s) => s.traffic.map((t) => ({ namespace: t.namespace, name: t.service })));
  const events = [
    ...situations.flatMap((s) => s.events),
    ...backgroundNoise(random, ids, workloads, LOG_START, LOG_END, 6_000),
    ...cronJobs(ids, 'analytics', 'hourly-report', 'registry.example.com/analytics/reports:2.4.1', ['python', '-m', 'reports.hourly'], LOG_START, LOG_END, 60 * MINUTE),
  ];
  // The apiserver writes records in stageTimestamp order; a stable sort keeps same-instant ties in build order.
  const stamped = events.map((e, i) => ({ e, i, t: Date.parse(e.stageTimestamp) }));
  stamped.sort((a, b) => a.t - b.t || a.i - b.i);

  const series: RawServiceSeries[] = [];
  let n = 0;
  for (const s of situations) {
    const starts = s.expect.map((x) => x.deployStart);
    const span = { start: Math.min(...starts) - BEFORE_MS, end: Math.max(...starts) + AFTER_MS };
    for (const t of s.traffic) series.push(scrape(t, span, seed + ++n));
  }

  return { audit: toLog(stamped.map((x) => x.e)), metrics: openMetrics(series), expected: expectedJson(situations.flatMap((s) => s.expect)) };
}
