import type { RolloutState } from '../../src/core/decision-types.js';
import type { HandoffInput } from '../../src/core/handoff-types.js';
import { detectOwner } from '../../src/core/ownership.js';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import type { CounterSeries, RawServiceSeries } from '../../src/core/regression-series.js';
import { deployment, min, T0 } from './builders.js';
import { errorRegression } from './scenario.js';

// R9 inputs on synthetic counters (30 s steps, the default policy): deploy at T0, onset at +5m,
// the rollback at +8m and its rollout complete at +9m unless a case says otherwise.

export const S = 30_000;
export const RPS_STEP = 200;
export const BASE = 0.002;
export const HIGH = 0.2;
export const ROLLBACK = min(8);
export const DONE = min(9);

/** A 5xx share per step: the level in force at each step's end. */
export type Profile = (t: number) => number;
export const levels =
  (...changes: [at: number, share: number][]): Profile =>
  (t) => {
    let share = BASE;
    for (const [at, s] of changes) if (t > at) share = s;
    return share;
  };

function counters(service: string, profile: Profile, now: number, rps = RPS_STEP): RawServiceSeries {
  const ok: [number, number][] = [];
  const bad: [number, number][] = [];
  let okTotal = 0;
  let badTotal = 0;
  for (let t = T0 - 40 * 60_000; t <= now; t += S) {
    const e = profile(t) * rps;
    okTotal += rps - e;
    badTotal += e;
    ok.push([t, okTotal]);
    bad.push([t, badTotal]);
  }
  const series = (code: string, samples: [number, number][]): CounterSeries => ({ labels: { code }, samples });
  return { namespace: 'shop', service, requests: [series('200', ok), series('500', bad)], errors: [series('500', bad)], latency: [] };
}

export const regression = errorRegression({ onset: min(5), errorRate: { baseline: BASE, current: HIGH, baselineRequests: 12_000, currentRequests: 1200, pValue: 1e-30, persisted: 3 } });

export function handoffInput(o: { now: number; own: Profile; others?: [string, Profile][]; rollout?: RolloutState; rps?: number } & Partial<HandoffInput>): HandoffInput {
  const { now, own, others = [], rollout = { state: 'complete', at: DONE }, rps, ...rest } = o;
  const bad = deployment({ image: 'shop/checkout:2', annotations: { 'rollguard.io/commit': '3f2a9c1', 'rollguard.io/pull-request': 'https://git.example/shop/pull/42', 'kubernetes.io/change-cause': 'release 2' } });
  const good = deployment({ image: 'shop/checkout:1', annotations: { 'kubernetes.io/change-cause': 'release 1' } });
  return {
    now,
    policy: DEFAULT_POLICY,
    namespace: 'shop',
    deployment: 'checkout',
    rolledBack: { revision: 2, template: bad.spec?.template, annotations: bad.metadata?.annotations ?? {} },
    restored: { revision: 1, template: good.spec?.template, annotations: good.metadata?.annotations ?? {} },
    owner: detectOwner(bad, ''),
    regression,
    deployStart: T0,
    deployComplete: min(2),
    rollbackAt: ROLLBACK,
    rollbackRollout: rollout,
    series: counters('checkout', own, now, rps),
    neighbours: others.map(([name, p]) => counters(name, p, now)),
    ...rest,
  };
}

export const ONSET: [number, number] = [min(5), HIGH];
