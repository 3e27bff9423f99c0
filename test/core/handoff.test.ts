import { describe, expect, it } from 'vitest';
import { computeHandoff, handoffGrid } from '../../src/core/handoff.js';
import { bandOf } from '../../src/core/handoff-recovery.js';
import { detectOwner } from '../../src/core/ownership.js';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import { deployment, min, T0 } from '../support/builders.js';
import { BASE, DONE, handoffInput, HIGH, levels, ONSET, regression, ROLLBACK, RPS_STEP, S, type Profile } from '../support/handoff-fixture.js';

// R9 on synthetic counters (30 s steps, the default policy): deploy at T0, onset at +5m, the
// rollback at +8m and its rollout complete at +9m unless a case says otherwise.

const onset = ONSET;

describe('R9 recovery status and causal assessment', () => {
  it.each([
    ['back to baseline as the rollback completed, held 6 min', { now: DONE + 6 * 60_000, own: levels(onset, [DONE, BASE]) }, 'recovered', 'likely-the-rolled-back-code', true],
    ['back to baseline as the rollback completed, only 90 s so far', { now: DONE + 90_000, own: levels(onset, [DONE, BASE]) }, 'recovering', 'likely-the-rolled-back-code', false],
    ['back to baseline 1 min after completion', { now: DONE + 8 * 60_000, own: levels(onset, [DONE + 60_000, BASE]) }, 'recovered', 'likely-the-rolled-back-code', true],
    ['back to baseline 2 min before the rollback', { now: DONE + 8 * 60_000, own: levels(onset, [ROLLBACK - 2 * 60_000, BASE]) }, 'recovered', 'coincidence', true],
    ['back to baseline during the rollback rollout', { now: min(10) + 8 * 60_000, own: levels(onset, [ROLLBACK + S, BASE]), rollout: { state: 'complete', at: min(10) } }, 'recovered', 'coincidence', true],
    ['back while the rollback rollout is still running after 3 min', { now: ROLLBACK + 4 * 60_000, own: levels(onset, [ROLLBACK + S, BASE]), rollout: { state: 'progressing' } }, 'recovered', 'coincidence', false],
    ['back just now while the rollback rollout is still running', { now: ROLLBACK + 2 * 60_000, own: levels(onset, [ROLLBACK + 90_000, BASE]), rollout: { state: 'progressing' } }, 'recovering', 'unknown', false],
    ['still high 10 min after completion', { now: DONE + 10 * 60_000, own: levels(onset) }, 'not-recovering', 'cause-elsewhere', true],
    ['still high 3 min after completion', { now: DONE + 3 * 60_000, own: levels(onset) }, 'not-recovering', 'cause-elsewhere', false],
    ['still high 1 min after completion (waiting for the effect)', { now: DONE + 60_000, own: levels(onset) }, 'not-recovering', 'unknown', false],
    ['still high, the rollback rollout still running', { now: DONE + 5 * 60_000, own: levels(onset), rollout: { state: 'progressing' } }, 'not-recovering', 'unknown', false],
    ['rollback rollout state not known (F1)', { now: DONE + 5 * 60_000, own: levels(onset, [DONE, BASE]), rollout: { state: 'unknown' } }, 'recovered', 'unknown', false],
    ['back only 5 min after completion', { now: DONE + 12 * 60_000, own: levels(onset, [DONE + 5 * 60_000, BASE]) }, 'recovered', 'cause-elsewhere', true],
    ['falling to 8% (above the threshold)', { now: DONE + 6 * 60_000, own: levels(onset, [DONE, 0.08]) }, 'recovering', 'unknown', false],
    ['down to 1.5% (below the threshold, above the band)', { now: DONE + 6 * 60_000, own: levels(onset, [DONE, 0.015]) }, 'recovering', 'unknown', false],
  ] as const)('%s: %s, %s, settled %s', (_label, o, status, kind, settled) => {
    const h = computeHandoff(handoffInput(o));
    expect(h.recovery.status).toBe(status);
    expect(h.assessment.kind).toBe(kind);
    expect(h.settled).toBe(settled);
    expect(h.assessment.evidence.length).toBeGreaterThan(0);
  });

  it('places the return to the band at the step it happened', () => {
    const h = computeHandoff(handoffInput({ now: DONE + 6 * 60_000, own: levels(onset, [DONE, BASE]) }));
    expect(h.recovery.backInBandSince).toBe(DONE);
    expect(h.recovery.recent?.share).toBeCloseTo(BASE, 9);
    expect(h.recovery.recent?.requests).toBeCloseTo(5 * RPS_STEP, 6);
    expect(h.recovery.recent?.steps).toBe(5);
    expect(h.assessment.evidence[0]).toMatch(/back in the healthy band at 2026-03-02T10:09:00Z, as the rollback's rollout completed/);
  });

  it('says how long errors stayed up after completion when the cause is elsewhere', () => {
    const h = computeHandoff(handoffInput({ now: DONE + 10 * 60_000, own: levels(onset) }));
    expect(h.assessment.evidence[0]).toBe("errors stayed up for 10m after the rollback's rollout completed at 2026-03-02T10:09:00Z: the rolled-back code is not (or not the only) cause");
    expect(h.recovery.evidence[0]).toMatch(/^5xx share still above 2\.0% since the rollback/);
  });
});

describe('R9 other services of the namespace', () => {
  it.each([
    ['payments recovered at the same moment, before the rollback completed', levels(onset, [ROLLBACK - 60_000, BASE]), levels(onset, [ROLLBACK - 60_000, BASE]), 'common-cause'],
    ['payments recovered at the same moment, 5 min after completion', levels(onset, [DONE + 5 * 60_000, BASE]), levels(onset, [DONE + 5 * 60_000, BASE]), 'common-cause'],
    ['payments recovered when the rollback completed: it depends on checkout', levels(onset, [DONE, BASE]), levels(onset, [DONE + S, BASE]), 'likely-the-rolled-back-code'],
    ['payments recovered 4 min apart: no common cause', levels(onset, [ROLLBACK - 60_000, BASE]), levels(onset, [DONE + 3 * 60_000, BASE]), 'coincidence'],
    ['payments still high, checkout recovered at completion', levels(onset, [DONE, BASE]), levels(onset), 'likely-the-rolled-back-code'],
  ] as const)('%s: %s', (_label, own, payments, kind) => {
    const h = computeHandoff(handoffInput({ now: DONE + 12 * 60_000, own, others: [['payments', payments], ['catalog', levels()]] }));
    expect(h.assessment.kind).toBe(kind);
    // catalog never regressed: it is no evidence either way.
    expect(h.neighbours.map((n) => n.service)).toEqual(['payments']);
    expect(h.neighbours[0]?.incident).toBeCloseTo(HIGH, 6);
  });

  it('names the services that came back at the same moment', () => {
    const both = levels(onset, [ROLLBACK - 60_000, BASE]);
    const h = computeHandoff(handoffInput({ now: DONE + 12 * 60_000, own: both, others: [['payments', both]] }));
    expect(h.assessment.evidence.join('\n')).toMatch(/payments, which regressed at the same time, came back within 2 steps of it/);
  });

  it('says when the others stayed high too', () => {
    const h = computeHandoff(handoffInput({ now: DONE + 10 * 60_000, own: levels(onset), others: [['payments', levels(onset)]] }));
    expect(h.assessment.kind).toBe('cause-elsewhere');
    expect(h.assessment.evidence.at(-1)).toBe('payments regressed at the same time and has not recovered either: look for a shared cause');
  });
});

describe('R9 F1: no data is unknown, never a verdict', () => {
  it.each([
    ['no series at all', { series: { namespace: 'shop', service: 'checkout', requests: [], errors: [], latency: [] } }, /no requests recorded/],
    ['the metrics could not be read', { metricsProblem: 'Prometheus unreachable at http://127.0.0.1:9' }, /could not be read: Prometheus unreachable/],
    ['too little traffic since the rollback', { rps: 10 }, /too little traffic since the rollback to tell: 50 requests in the last 5 steps, the policy needs 100/],
    ['no error-rate counts in the triggering regression', { regression: { ...regression, errorRate: undefined } }, /no error-rate counts/],
  ] as const)('%s', (_label, o, why) => {
    const h = computeHandoff(handoffInput({ now: DONE + 10 * 60_000, own: levels(onset, [DONE, BASE]), ...o }));
    expect(h.recovery.status).toBe('unknown');
    expect(h.assessment.kind).toBe('unknown');
    expect(h.settled).toBe(false);
    expect(h.recovery.evidence.join('\n')).toMatch(why);
  });

  it('right after the rollback there is no complete step to judge yet', () => {
    const h = computeHandoff(handoffInput({ now: ROLLBACK + 10_000, own: levels(onset), rollout: { state: 'progressing' } }));
    expect(h.recovery.status).toBe('unknown');
    expect(h.assessment.kind).toBe('unknown');
  });
});

describe('R9 change set, signal and owner', () => {
  const h = computeHandoff(handoffInput({ now: DONE + 6 * 60_000, own: levels(onset, [DONE, BASE]) }));

  it('names the rolled-back deploy: revisions, images before → after, commit, PR and change-cause', () => {
    expect(h.changeSet.images).toEqual([{ container: 'app', before: 'shop/checkout:1', after: 'shop/checkout:2' }]);
    expect(h.changeSet.parts).toEqual(['images']);
    expect(h.changeSet.rolledBack).toEqual({ revision: 2, commit: '3f2a9c1', pullRequest: 'https://git.example/shop/pull/42', changeCause: 'release 2' });
    expect(h.changeSet.restored).toEqual({ revision: 1, commit: undefined, pullRequest: undefined, changeCause: 'release 1' });
    expect(h.changeSet.summary).toBe('rolled back revision 2 (commit 3f2a9c1, https://git.example/shop/pull/42) to revision 1: the deploy changed app shop/checkout:1 → shop/checkout:2');
  });

  it('carries the triggering signal and the series from the baseline to now', () => {
    expect(h.signal).toMatchObject({ threshold: 0.02, baseline: BASE, triggering: HIGH, onset: min(5), deployStart: T0, deployComplete: min(2), rollbackAt: ROLLBACK, rollbackComplete: DONE, stepMs: S });
    const grid = handoffGrid(T0, DONE + 6 * 60_000, DEFAULT_POLICY);
    expect(h.signal.points[0]?.t).toBe(grid.start + S);
    expect(h.signal.points.at(-1)?.t).toBe(grid.end);
    expect(h.signal.points.find((p) => p.t === min(7))?.v).toBeCloseTo(HIGH, 6);
  });

  it('R13 a Helm-managed Deployment: the next helm upgrade brings the change back, helm rollback is the durable route', () => {
    const helm = deployment({ labels: { 'app.kubernetes.io/name': 'checkout', 'app.kubernetes.io/managed-by': 'Helm' }, annotations: { 'meta.helm.sh/release-name': 'shop', 'meta.helm.sh/release-namespace': 'shop' } });
    const withHelm = computeHandoff(handoffInput({ now: DONE + 6 * 60_000, own: levels(onset, [DONE, BASE]), owner: detectOwner(helm, '') }));
    expect(withHelm.notes).toEqual(['Helm release shop still holds the rolled-back revision: the next helm upgrade brings the change back; helm rollback shop -n shop is the durable route']);
    expect(h.notes).toEqual([]);
  });

  it('the band: halfway to the threshold, or a quarter of the rise when the baseline is already above it', () => {
    expect(bandOf(0.002, 0.2, 0.02)).toEqual({ healthy: 0.011, elevated: 0.02 });
    expect(bandOf(0.03, 0.11, 0.02)).toEqual({ healthy: expect.closeTo(0.05, 9) as number, elevated: expect.closeTo(0.07, 9) as number });
  });
});

describe('R9 on noisy counts', () => {
  // Integer 5xx counts drawn around the level, so no step is exactly the mean.
  let seed = 7;
  const noise = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const poisson = (mean: number): number => {
    let k = 0;
    for (let p = Math.exp(-mean), s = p, u = noise(); u > s; k++) {
      p *= mean / (k + 1);
      s += p;
    }
    return k;
  };
  const noisy = (profile: Profile): Profile => (t) => poisson(profile(t) * RPS_STEP) / RPS_STEP;

  it('recovers at completion and says so, despite per-step noise', () => {
    const h = computeHandoff(handoffInput({ now: DONE + 8 * 60_000, own: noisy(levels(onset, [DONE, BASE])) }));
    expect(h.recovery.status).toBe('recovered');
    expect(h.assessment.kind).toBe('likely-the-rolled-back-code');
    expect(Math.abs((h.recovery.backInBandSince ?? 0) - DONE)).toBeLessThanOrEqual(S);
  });

  it('stays not-recovering when the noise continues at the high level', () => {
    const h = computeHandoff(handoffInput({ now: DONE + 10 * 60_000, own: noisy(levels(onset)) }));
    expect(h.recovery.status).toBe('not-recovering');
    expect(h.assessment.kind).toBe('cause-elsewhere');
  });
});
