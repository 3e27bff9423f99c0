import { describe, expect, it } from 'vitest';
import type { ProxiedRequest } from '../../bench/harden/fault-proxy.js';
import { checkSchedule, type ScheduleRecord } from '../../bench/harden/fault-invariants.js';
import { FAULT_KINDS, faultSchedules } from '../../bench/harden/fault-schedule.js';

// The fault-schedule harness's checks (issue 17, part 5) fail on the records a wrong agent leaves.

const T0 = 1_000_000;
const LEASE = '/apis/coordination.k8s.io/v1/namespaces/rg/leases/rollguard-agent';
const DEPLOYMENTS = '/apis/apps/v1/deployments';

function req(identity: string, atS: number, method: string, path: string, more: Partial<ProxiedRequest> = {}): ProxiedRequest {
  return { identity, at: T0 + atS * 1000, method, path, watch: false, status: 200, ...more };
}

/** A renewal round of `identity` starting at `atS`. */
const renew = (identity: string, atS: number) => [req(identity, atS, 'GET', LEASE), req(identity, atS + 0.05, 'PUT', LEASE)];

function record(more: Partial<ScheduleRecord>): ScheduleRecord {
  return { log: [], since: T0, renewDeadlineMs: 4000, unavailable: [], apiserverDown: [], deploys: [], crashes: [], lastFaultEnd: T0, steadyAt: T0 + 1000, ...more };
}

const auto = { name: 'web', mode: 'auto' as const, regress: true, atMs: 0 };
const suggest = { name: 'pay', mode: 'suggest' as const, regress: true, atMs: 0 };
const rollback = (identity: string, atS: number, name: string) => req(identity, atS, 'PATCH', `/apis/apps/v1/namespaces/app/deployments/${name}`, { rollback: true });

describe('F4 the fault schedules check what they claim', () => {
  it('F4 one rollback per auto decision: two, none, or one for a suggestion are violations; a rightful suggestion is not', () => {
    const log = [...renew('a1', 0), rollback('a1', 1, 'web')];
    expect(checkSchedule(record({ log, deploys: [{ deploy: auto, verdicts: ['auto'] }] }), T0)['one-rollback'].violations).toEqual([]);
    expect(checkSchedule(record({ log: [...log, rollback('b1', 2, 'web')], deploys: [{ deploy: auto, verdicts: ['auto'] }] }), T0)['one-rollback'].violations).toHaveLength(1);
    expect(checkSchedule(record({ log: renew('a1', 0), deploys: [{ deploy: auto, verdicts: ['auto'] }] }), T0)['one-rollback'].violations).toHaveLength(1);
    expect(checkSchedule(record({ log: renew('a1', 0), deploys: [{ deploy: auto, verdicts: [] }] }), T0)['one-rollback'].violations).toHaveLength(1);
    expect(checkSchedule(record({ log: renew('a1', 0), deploys: [{ deploy: auto, verdicts: ['suggest'] }] }), T0)['one-rollback'].violations).toEqual([]);
    expect(checkSchedule(record({ log: [...renew('a1', 0), rollback('a1', 1, 'pay')], deploys: [{ deploy: suggest, verdicts: ['suggest'] }] }), T0)['one-rollback'].violations).toHaveLength(1);
    // A rollback patch that failed (409/422) rolled nothing back.
    expect(checkSchedule(record({ log: [...log, { ...rollback('b1', 2, 'web'), status: 422 }], deploys: [{ deploy: auto, verdicts: ['auto'] }] }), T0)['one-rollback'].violations).toEqual([]);
  });

  it('F4 a clean deploy beside a regressing one may be told to a person, never rolled back or judged auto', () => {
    const clean = { ...auto, name: 'cart', regress: false };
    const check = (log: ProxiedRequest[], verdicts: string[]) => checkSchedule(record({ log, deploys: [{ deploy: clean, verdicts }] }), T0)['one-rollback'].violations;
    expect(check(renew('a1', 0), [])).toEqual([]);
    expect(check(renew('a1', 0), ['suggest'])).toEqual([]);
    expect(check(renew('a1', 0), ['auto'])).toHaveLength(1);
    expect(check([...renew('a1', 0), rollback('a1', 1, 'cart')], ['suggest'])).toHaveLength(1);
  });

  it('F4 a write past the renew deadline (or before any renewal) is caught; a renewal before the schedule counts', () => {
    const write = (atS: number) => req('a1', atS, 'PUT', '/apis/rollguard.io/v1alpha1/namespaces/rg/rollbackdecisions/x');
    const ok = checkSchedule(record({ log: [...renew('a1', -2), write(1.5)] }), T0)['fenced-writes'];
    expect(ok).toEqual({ checked: 1, violations: [] });
    expect(checkSchedule(record({ log: [...renew('a1', 0), write(4.5)] }), T0)['fenced-writes'].violations).toHaveLength(1);
    expect(checkSchedule(record({ log: [write(1)] }), T0)['fenced-writes'].violations).toHaveLength(1);
    // A renewal the apiserver refused (409) does not extend anything.
    expect(checkSchedule(record({ log: [...renew('a1', 0), req('a1', 3, 'GET', LEASE), req('a1', 3.1, 'PUT', LEASE, { status: 409 }), write(5)] }), T0)['fenced-writes'].violations).toHaveLength(1);
    // The other replica's renewal is not this one's.
    expect(checkSchedule(record({ log: [...renew('b1', 0), write(1)] }), T0)['fenced-writes'].violations).toHaveLength(1);
  });

  it('F4 after a 410 a relist within 2 s, and watches at most one a second per resource', () => {
    const gone = req('a1', 10, 'GONE', DEPLOYMENTS, { watch: true });
    expect(checkSchedule(record({ log: [gone, req('a1', 10.2, 'GET', DEPLOYMENTS)] }), T0)['relist-after-410']).toEqual({ checked: 1, violations: [] });
    expect(checkSchedule(record({ log: [gone, req('a1', 12.5, 'GET', DEPLOYMENTS)] }), T0)['relist-after-410'].violations).toHaveLength(1);
    expect(checkSchedule(record({ log: [gone], unavailable: [{ identity: 'a1', from: T0 + 9000, to: T0 + 11_000 }] }), T0)['relist-after-410'].checked).toBe(0);
    const watch = (atS: number) => req('a1', atS, 'GET', DEPLOYMENTS, { watch: true });
    expect(checkSchedule(record({ log: [watch(1), watch(2.1)] }), T0)['watch-rate']).toEqual({ checked: 1, violations: [] });
    expect(checkSchedule(record({ log: [watch(1), watch(1.4)] }), T0)['watch-rate'].violations).toHaveLength(1);
  });

  it('F4 after the apiserver comes back, or a reset, each informer tries again within 30 s', () => {
    const watch = (atS: number, more: Partial<ProxiedRequest> = {}) => req('a1', atS, 'GET', DEPLOYMENTS, { watch: true, ...more });
    const down = [{ from: T0 + 5000, to: T0 + 35_000 }];
    expect(checkSchedule(record({ log: [watch(1), watch(50)], apiserverDown: down }), T0)['backoff-cap']).toEqual({ checked: 1, violations: [] });
    expect(checkSchedule(record({ log: [watch(1), watch(70)], apiserverDown: down }), T0)['backoff-cap'].violations).toHaveLength(1);
    expect(checkSchedule(record({ log: [watch(1, { injected: 'reset' }), watch(20)] }), T0)['backoff-cap'].violations).toEqual([]);
    expect(checkSchedule(record({ log: [watch(1, { injected: 'reset' })] }), T0)['backoff-cap'].violations).toHaveLength(1);
    // A list reset on a watched path is held to it too; a periodic read (the probe's /version every 30 s) is not.
    expect(checkSchedule(record({ log: [watch(1), req('a1', 2, 'GET', DEPLOYMENTS, { injected: 'reset' })] }), T0)['backoff-cap'].violations).toHaveLength(1);
    expect(checkSchedule(record({ log: [watch(1), req('a1', 2, 'GET', '/version', { injected: 'reset' }), watch(20)] }), T0)['backoff-cap'].violations).toEqual([]);
  });

  it('F4 a crash, and steady state later than a minute after the last fault (or never), are violations', () => {
    expect(checkSchedule(record({ crashes: ['a1 exited'] }), T0)['no-crash'].violations).toEqual(['a1 exited']);
    expect(checkSchedule(record({ steadyAt: T0 + 61_000 }), T0)['steady-state'].violations).toHaveLength(1);
    expect(checkSchedule(record({ steadyAt: undefined }), T0)['steady-state'].violations).toHaveLength(1);
    expect(checkSchedule(record({ steadyAt: T0 + 59_000 }), T0)['steady-state'].violations).toEqual([]);
  });
});

describe('F4 fault schedules are replayable from their seed', () => {
  it('the same seed gives the same schedules, and three schedules deal every fault kind', () => {
    const opts = { windowMs: 60_000, leaseDurationMs: 6000 };
    expect(faultSchedules(42, 3, opts)).toEqual(faultSchedules(42, 3, opts));
    expect(faultSchedules(42, 3, opts)).not.toEqual(faultSchedules(43, 3, opts));
    for (const seed of [1, 2, 3, 99, 12345]) {
      const kinds = new Set(faultSchedules(seed, 3, opts).flatMap((s) => s.faults.map((f) => f.kind)));
      expect([...kinds].sort()).toEqual([...FAULT_KINDS].sort());
    }
    for (const s of faultSchedules(7, 50, opts)) {
      for (const f of s.faults) {
        if (f.kind === 'pause-leader') expect(f.durationMs).toBeGreaterThan(6000);
        if (f.kind === 'apiserver-down') expect(f.atMs + f.durationMs).toBeLessThanOrEqual(60_000);
      }
    }
  });
});
