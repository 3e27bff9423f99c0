import { decide } from '../../src/core/decide.js';
import { MINUTE } from '../../src/core/duration.js';
import type { ReportInput, SeriesPoint } from '../../src/report/types.js';
import { configChange, min, T0 } from '../support/builders.js';
import { cleanInput } from '../support/scenario.js';

// A realistic report input: the seed's "config changed in place" incident. The deploy of
// shop/checkout at T0 switched images while app-config was edited in place 10 minutes earlier, so
// the decision is `suggest`; the 5xx share steps from ~0.4% to ~8% at T0+3m.

export const PLANTED_MARKUP = '<img src=x onerror="alert(1)">';

function series(from: number, to: number, f: (t: number) => number): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  for (let t = from; t <= to; t += 30_000) out.push({ t, v: f(t) });
  return out;
}

const wobble = (t: number) => 0.0015 * Math.sin(t / 97_000) + 0.001 * Math.cos(t / 41_000);

export function reportInput(): ReportInput {
  const input = cleanInput({ events: [configChange({ name: 'app-config', at: min(-10) })] });
  const decision = decide(input);
  return {
    decision: { ...decision, notes: [...decision.notes, `neighbour note with markup ${PLANTED_MARKUP}`] },
    service: decision.service,
    decidedAt: min(6),
    errorRate: {
      points: series(min(-30), min(20), (t) => Math.max(0, (t >= min(3) ? 0.08 : 0.004) + wobble(t) * (t >= min(3) ? 6 : 1))),
      threshold: input.policy.thresholds.errorRate,
      baseline: 0.004,
    },
    latency: {
      points: series(min(-30), min(20), (t) => (t >= min(3) ? 0.62 : 0.21) + wobble(t) * 20),
      baseline: 0.21,
    },
    window: { from: T0, to: min(5) + 15 * MINUTE, label: 'R1 window: deploy start → complete + 15m' },
    marks: [
      { at: min(-10), kind: 'config', label: 'ConfigMap app-config changed' },
      { at: T0, kind: 'deploy-start', label: 'deploy start' },
      { at: min(3), kind: 'onset', label: 'onset' },
      { at: min(5), kind: 'deploy-complete', label: 'rollout complete' },
      { at: min(6), kind: 'decision', label: `verdict: ${decision.verdict}` },
      { at: min(14), kind: 'job', label: 'Job db-migrate-43 started', later: true },
    ],
    source: 'rollguard replay --audit audit.log --metrics metrics.om',
  };
}
