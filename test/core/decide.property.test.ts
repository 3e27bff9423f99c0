import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide } from '../../src/core/decide.js';
import type { DecisionInput, RolloutState } from '../../src/core/decision-types.js';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import type { ChangeEvent } from '../../src/core/change-events.js';
import { configChange, jobRun, min, T0 } from '../support/builders.js';
import { cleanInput, errorRegression } from '../support/scenario.js';

// Random incidents around one deploy of shop/checkout (which reads ConfigMap app-config and Secret
// db). An independent oracle lists the facts that must rule out `auto`; the properties check the
// decision against it in both directions.

interface Params {
  onset: number;
  rollout: { state: 'complete'; at: number } | { state: 'progressing' } | { state: 'unknown' };
  nowAfter: number;
  service: string;
  signal: 'error-rate' | 'latency' | 'both' | undefined;
  current: number;
  pValue: number;
  requests: number;
  persisted: number;
  config: { name: string; kind: 'ConfigMap' | 'Secret'; action: 'create' | 'update' | 'delete'; content: 'changed' | 'unchanged' | 'unknown'; at: number }[];
  jobs: { name: string; start: number; duration: number | undefined }[];
  previous: number | null | undefined;
  paused: boolean;
  blackoutIn: number | undefined;
  mode: 'auto' | 'suggest' | 'off';
  argo: boolean;
}

/** The good value four times out of five, so that clean incidents (all good) come up often. */
function mostly<T>(good: T, ...others: T[]): fc.Arbitrary<T> {
  return fc.oneof({ arbitrary: fc.constant(good), weight: 4 }, { arbitrary: fc.constantFrom(...others), weight: 1 });
}

const params: fc.Arbitrary<Params> = fc.record({
  onset: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 15 }), weight: 3 }, { arbitrary: fc.integer({ min: -60, max: 50 }), weight: 1 }),
  rollout: fc.oneof(
    fc.integer({ min: 0, max: 20 }).map((m) => ({ state: 'complete' as const, at: min(m) })),
    fc.constant({ state: 'progressing' as const }),
    fc.constant({ state: 'unknown' as const }),
  ),
  nowAfter: fc.integer({ min: 1, max: 20 }),
  service: mostly('checkout', 'payments'),
  signal: mostly<Params['signal']>('error-rate', 'latency', 'both', undefined),
  current: mostly(0.05, 0.01, 0.2),
  pValue: mostly(1e-20, 1e-4, 0.05),
  requests: mostly(5000, 20),
  persisted: mostly(3, 0, 1, 2, 5),
  config: fc.array(
    fc.record({
      name: fc.constantFrom('app-config', 'db', 'unrelated'),
      kind: fc.constantFrom('ConfigMap' as const, 'Secret' as const),
      action: fc.constantFrom('create' as const, 'update' as const, 'delete' as const),
      content: fc.constantFrom('changed' as const, 'unchanged' as const, 'unknown' as const),
      at: fc.integer({ min: -60, max: 40 }),
    }),
    { maxLength: 2 },
  ),
  jobs: fc.array(
    fc.record({ name: fc.constantFrom('db-migrate', 'nightly-report'), start: fc.integer({ min: -120, max: 60 }), duration: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }) }),
    { maxLength: 2 },
  ),
  previous: mostly<number | null | undefined>(6, null, undefined),
  paused: mostly(false, true),
  blackoutIn: fc.option(fc.integer({ min: -20, max: 20 }), { nil: undefined, freq: 2 }),
  mode: mostly<Params['mode']>('auto', 'suggest', 'off'),
  argo: mostly(false, true),
});

function nowOf(p: Params): number {
  const complete = p.rollout.state === 'complete' ? p.rollout.at : T0;
  return Math.max(min(p.onset), complete, T0) + p.nowAfter * 60_000;
}

function build(p: Params): DecisionInput {
  const base = cleanInput();
  const now = nowOf(p);
  const secretAware = (c: Params['config'][number]): ChangeEvent => configChange({ ...c, at: min(c.at), kind: c.name === 'db' ? 'Secret' : c.name === 'app-config' ? 'ConfigMap' : c.kind });
  const jobs = p.jobs.map((j) => jobRun(j.name, min(j.start), j.duration === undefined ? undefined : min(j.start + j.duration)));
  const labels: Record<string, string> = { 'app.kubernetes.io/name': 'checkout', ...(p.argo ? { 'argocd.argoproj.io/instance': 'checkout' } : {}) };
  const current = { ...base.current, metadata: { ...base.current.metadata, labels }, spec: { ...base.current.spec, paused: p.paused } };
  const rollout: RolloutState = p.rollout;
  const errorRate = { baseline: 0.004, current: p.current, baselineRequests: 60_000, currentRequests: p.requests, pValue: p.pValue, persisted: p.persisted };
  return {
    ...base,
    now,
    policy: { ...DEFAULT_POLICY, mode: p.mode },
    deploy: { ...base.deploy, rollout },
    current,
    events: [...p.config.map(secretAware), ...jobs],
    regression: {
      ...errorRegression({ service: p.service, signal: p.signal, onset: min(p.onset) }),
      errorRate,
      latency: { baselineP99: 0.2, currentP99: 0.8, pValue: p.pValue, persisted: p.persisted },
    },
    revision: { current: 7, previous: p.previous },
    blackoutUntil: p.blackoutIn === undefined ? undefined : now + p.blackoutIn * 60_000,
  };
}

/** Independent reading of SPEC R1–R13: every fact that must keep this incident from `auto`. */
function blockers(p: Params, input: DecisionInput): string[] {
  const out: string[] = [];
  const now = input.now;
  if (p.onset < 0) out.push('R1 onset before deploy');
  if (p.rollout.state === 'complete' && min(p.onset) > p.rollout.at + 15 * 60_000) out.push('R1 onset too late');
  if (p.rollout.state === 'unknown' && p.onset > 15) out.push('R1 completion unknown');
  if (p.service !== 'checkout') out.push('R2 other service');
  for (const c of p.config) {
    const referenced = c.name === 'app-config' || c.name === 'db';
    const inWindow = min(c.at) >= min(-30) && min(c.at) <= now;
    if (referenced && inWindow && (c.action !== 'update' || c.content !== 'unchanged')) out.push(`R3 ${c.name} ${c.action}`);
  }
  const end = (p.rollout.state === 'complete' ? p.rollout.at : now) + 30 * 60_000;
  for (const j of p.jobs) {
    const start = min(j.start);
    const finish = j.duration === undefined ? now : min(j.start + j.duration);
    if (j.name === 'db-migrate' && start <= now && start <= end && finish >= min(-30)) out.push('R4 migration');
  }
  if (p.signal !== 'error-rate' && p.signal !== 'both') out.push('R5 not an error-rate signal');
  if (p.current <= 0.02 || p.pValue >= 0.001 || p.requests < 100 || p.persisted < 3) out.push('R5 weak signal');
  if (typeof p.previous !== 'number') out.push('R6 no previous revision');
  if (p.paused) out.push('R6 paused');
  if (p.blackoutIn !== undefined && p.blackoutIn > 0) out.push('R8 blackout');
  if (p.mode !== 'auto') out.push('R11 mode');
  if (p.argo) out.push('R13 Argo CD');
  return out;
}

const runs = { numRuns: 2000, seed: 20260302 };

describe('R6 verdict properties', () => {
  it('auto exactly when no rule rules it out (any single failing condition prevents auto)', () => {
    const seen = { auto: 0, singleBlocker: 0 };
    fc.assert(
      fc.property(params, (p) => {
        const input = build(p);
        const found = blockers(p, input);
        const verdict = decide(input).verdict;
        if (found.length > 0) expect(verdict, found.join(', ')).not.toBe('auto');
        else expect(verdict).toBe('auto');
        if (verdict === 'auto') seen.auto++;
        if (found.length === 1) seen.singleBlocker++;
      }),
      runs,
    );
    // The generator must reach both sides of the property, or it proves nothing.
    expect(seen.auto).toBeGreaterThan(50);
    expect(seen.singleBlocker).toBeGreaterThan(200);
  });

  it('is deterministic and does not modify its input', () => {
    fc.assert(
      fc.property(params, (p) => {
        const input = build(p);
        const copy = structuredClone(input);
        const first = decide(input);
        expect(input).toEqual(copy);
        expect(decide(copy)).toEqual(first);
      }),
      { ...runs, numRuns: 300 },
    );
  });
});

const forgetters: [string, (i: DecisionInput) => DecisionInput][] = [
  ['deploy start', (i) => ({ ...i, deploy: { ...i.deploy, start: undefined } })],
  ['rollout completion', (i) => ({ ...i, deploy: { ...i.deploy, rollout: { state: 'unknown' } } })],
  ['the old Deployment', (i) => ({ ...i, deploy: { ...i.deploy, before: undefined } })],
  ['the new Deployment', (i) => ({ ...i, deploy: { ...i.deploy, after: undefined } })],
  ['config coverage', (i) => ({ ...i, coverage: { ...i.coverage, config: false } })],
  ['job coverage', (i) => ({ ...i, coverage: { ...i.coverage, jobs: false } })],
  ['revision history', (i) => ({ ...i, revision: { current: undefined, previous: undefined } })],
  ['the onset', (i) => ({ ...i, regression: i.regression && { ...i.regression, onset: undefined } })],
  ['traffic sufficiency', (i) => ({ ...i, regression: i.regression && { ...i.regression, data: 'low-traffic' } })],
  ['metric data', (i) => ({ ...i, regression: i.regression && { ...i.regression, data: 'no-data', signal: undefined } })],
  ['config content', (i) => ({ ...i, events: i.events.map((e) => (e.type === 'config-change' ? { ...e, content: 'unknown' } : e)) })],
  ['a Job spec', (i) => ({ ...i, events: i.events.map((e) => (e.type === 'job-run' ? { ...e, job: undefined } : e)) })],
  ['the onset precision', (i) => ({ ...i, regression: i.regression && { ...i.regression, onsetUncertaintyMs: 10 * 60_000 } })],
];

describe('F1 unknown is never auto', () => {
  it.each(forgetters)('forgetting %s never turns a non-auto verdict into auto', (_label, forget) => {
    fc.assert(
      fc.property(params, (p) => {
        const input = build(p);
        const before = decide(input).verdict;
        const after = decide(forget(input)).verdict;
        if (before !== 'auto') expect(after).not.toBe('auto');
      }),
      { ...runs, numRuns: 400 },
    );
  });

  it.each(forgetters.filter(([label]) => !['a Job spec', 'config content', 'the onset precision', 'rollout completion'].includes(label)))(
    'forgetting %s turns the clean auto incident into a non-auto verdict',
    (_label, forget) => {
      expect(decide(cleanInput()).verdict).toBe('auto');
      expect(decide(forget(cleanInput())).verdict).not.toBe('auto');
    },
  );

  it('unknown config content, a straddling onset and an unknown completion late in the window each block auto', () => {
    const withWrite = cleanInput({ events: [configChange({ name: 'app-config', content: 'unknown', at: min(-3) })] });
    expect(decide(withWrite).verdict).toBe('suggest');
    expect(decide(cleanInput({ regression: errorRegression({ onset: min(-1), onsetUncertaintyMs: 5 * 60_000 }) })).verdict).toBe('suggest');
    const late = cleanInput({ regression: errorRegression({ onset: min(18) }), now: min(22) });
    expect(decide(late).verdict).toBe('auto');
    expect(decide({ ...late, deploy: { ...late.deploy, rollout: { state: 'unknown' } } }).verdict).toBe('suggest');
  });
});
