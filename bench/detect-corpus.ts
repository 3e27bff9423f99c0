import type { RawServiceSeries } from '../src/core/regression-series.js';
import { diurnal, generateSeries, ramp, rng, spike, step } from '../test/support/metric-scenarios.js';
import type { ScenarioSpec } from '../test/support/metric-scenarios.js';

// The labelled corpus of the detection benchmark: generated deploys with known truth.

export const STEP = 30_000;
export const MIN = 60_000;
export const HORIZON = 25 * MIN;
const BASE_TIME = Date.UTC(2026, 2, 2, 9, 0, 0);

export type Kind = 'step' | 'ramp' | 'pre-existing' | 'null' | 'diurnal-null' | 'latency-only' | 'cold-start' | 'no-data' | 'gaps-resets' | 'low-traffic';

export interface Case {
  id: number;
  kind: Kind;
  /** True when the 5xx share really rises and stays up (the label). */
  regression: boolean;
  /** True onset (epoch ms) for regressions. */
  onset: number | undefined;
  /** Jump in share (absolute) and mean traffic (req/s), for the target subset. */
  jump: number;
  rate: number;
  deployStart: number;
  series: RawServiceSeries;
}

export function buildCorpus(total: number, seed: number): Case[] {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const kinds: [Kind, number][] = [
    ['step', 0.34],
    ['ramp', 0.06],
    ['pre-existing', 0.08],
    ['null', 0.18],
    ['diurnal-null', 0.06],
    ['latency-only', 0.08],
    ['cold-start', 0.08],
    ['no-data', 0.03],
    ['gaps-resets', 0.06],
    ['low-traffic', 0.03],
  ];
  const cases: Case[] = [];
  for (let id = 0; id < total; id++) {
    let u = random();
    let kind: Kind = 'null';
    for (const [k, w] of kinds) {
      if (u < w) {
        kind = k;
        break;
      }
      u -= w;
    }
    const deployStart = BASE_TIME + Math.floor(random() * 3600) * 1000 + Math.floor(random() * 1000);
    const start = deployStart - 40 * MIN;
    const end = deployStart + HORIZON;
    const rate = kind === 'low-traffic' ? pick([0.05, 0.1]) : pick([1, 2, 5, 20, 100, 1000]);
    const base = pick([0, 0.001, 0.003, 0.005, 0.01]);
    let jump = pick([0.01, 0.02, 0.05, 0.05, 0.1, 0.2, 0.5]);
    const noise = pick([0, 0, 0.3, 0.6]);
    const onsetAfterDeploy = deployStart + random() * 5 * MIN;
    const spec: ScenarioSpec = {
      seed: Math.floor(random() * 2 ** 31),
      stepMs: STEP,
      start,
      end,
      rate: () => rate,
      errorShare: () => base,
      noise,
      latencyMedian: () => 0.05,
    };
    let regression = false;
    let onset: number | undefined;
    switch (kind) {
      case 'step':
      case 'low-traffic':
      case 'gaps-resets':
        regression = kind !== 'gaps-resets' || random() < 0.5;
        if (regression) {
          onset = onsetAfterDeploy;
          spec.errorShare = step(onset, base, base + jump);
        }
        if (kind === 'gaps-resets') {
          const g = deployStart + (random() - 0.5) * 20 * MIN;
          spec.gaps = [[g, g + pick([1, 2, 4]) * STEP]];
          spec.resets = [deployStart + (random() - 0.3) * 15 * MIN];
        }
        break;
      case 'ramp':
        regression = true;
        onset = onsetAfterDeploy;
        jump = Math.max(jump, 0.05);
        spec.errorShare = ramp(onset, onset + pick([2, 5, 10]) * MIN, base, base + jump);
        break;
      case 'pre-existing':
        regression = true;
        onset = deployStart - (2 + random() * 18) * MIN;
        spec.errorShare = step(onset, base, base + jump);
        break;
      case 'diurnal-null':
        spec.rate = diurnal(rate, 0.6, deployStart + (random() - 0.5) * 86_400_000);
        break;
      case 'latency-only': {
        const at = onsetAfterDeploy;
        spec.latencyMedian = (t) => (t < at ? 0.05 : 0.05 * pick([2, 3, 5]));
        break;
      }
      case 'cold-start': {
        const from = deployStart + random() * 2 * MIN;
        spec.errorShare = spike(from, from + pick([1, 2]) * STEP, base, pick([0.1, 0.3, 0.6]));
        break;
      }
      case 'no-data':
      case 'null':
        break;
    }
    const series = kind === 'no-data' ? { namespace: 'shop', service: 'checkout', requests: [], errors: [], latency: [] } : generateSeries(spec);
    cases.push({ id, kind, regression, onset, jump: regression ? jump : 0, rate, deployStart, series });
  }
  return cases;
}

