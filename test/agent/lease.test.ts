import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LeaderElector } from '../../src/agent/lease.js';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import { KubeRest, paths } from '../../src/kube/rest.js';
import { controlPlane, describeWithControlPlane } from '../support/control-plane.js';
import { createTestNamespace, type TestNamespace } from '../support/namespaces.js';

// Leader election on a real coordination.k8s.io/v1 Lease, with the candidates' monotonic clocks
// under the test's control: a paused holder is one whose clock jumps.

describeWithControlPlane('F4 leader election on a Lease', () => {
  let ns: TestNamespace | undefined;
  let rest: KubeRest;
  const quiet = pino({ level: 'silent' });

  beforeAll(async () => {
    rest = new KubeRest((await controlPlane()).kubeConfig);
    ns = await createTestNamespace('lease');
  }, 120_000);

  afterAll(async () => {
    await ns?.cleanup();
  });

  function candidate(identity: string, clock: { t: number }, name = 'rollguard-agent'): LeaderElector {
    return new LeaderElector({ rest, namespace: ns?.name ?? '', name, identity, logger: quiet, leaseDurationMs: 6000, renewDeadlineMs: 4000, retryPeriodMs: 1000, monotonic: () => clock.t });
  }

  it('one holder at a time; a standby takes over only after the lease went unrenewed for its duration; a paused holder stops leading before that', async () => {
    const ca = { t: 0 };
    const cb = { t: 0 };
    const a = candidate('a', ca);
    const b = candidate('b', cb);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(a.isLeader()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    expect(b.isLeader()).toBe(false);
    // a renews; b has seen the record change, so its wait starts again.
    ca.t = 1000;
    expect(await a.tryAcquireOrRenew()).toBe(true);
    cb.t = 5000;
    expect(await b.tryAcquireOrRenew()).toBe(false);
    // a is paused: its own clock says the renew deadline passed, so it no longer acts.
    ca.t = 1000 + 4000;
    expect(a.isLeader()).toBe(false);
    expect(a.validForMs()).toBe(0);
    // b waits a full lease duration after it last saw the record change, then takes over.
    cb.t = 5000 + 5999;
    expect(await b.tryAcquireOrRenew()).toBe(false);
    cb.t = 5000 + 6000;
    expect(await b.tryAcquireOrRenew()).toBe(true);
    const lease = await rest.get<{ spec: { holderIdentity: string; leaseTransitions: number } }>(paths.lease(ns?.name ?? '', 'rollguard-agent'));
    expect(lease.spec.holderIdentity).toBe('b');
    expect(lease.spec.leaseTransitions).toBe(1);
    // a resumes: the lease is b's; a's renewal fails and it stays a standby.
    expect(await a.tryAcquireOrRenew()).toBe(false);
    expect(a.isLeader()).toBe(false);
  }, 60_000);

  it('a stopped holder releases the lease so a standby takes over at once', async () => {
    const c = { t: 100_000 };
    const d = { t: 100_000 };
    const holder = candidate('holder', c);
    const standby = candidate('standby', d);
    // Whatever the previous test left, take it over after the lease duration.
    await standby.tryAcquireOrRenew();
    c.t += 7000;
    await holder.tryAcquireOrRenew();
    c.t += 7000;
    expect(await holder.tryAcquireOrRenew()).toBe(true);
    expect(await standby.tryAcquireOrRenew()).toBe(false);
    await holder.stop();
    expect(await standby.tryAcquireOrRenew()).toBe(true);
  }, 60_000);

  it('R10 the holder advertises its URL in the Lease; a standby knows it from its own reads, forgets it once the record is older than the lease duration, and a takeover replaces it', async () => {
    const cx = { t: 0 };
    const cy = { t: 0 };
    const x = candidate('x', cx, 'advertised');
    const y = candidate('y', cy, 'advertised');
    x.advertise('http://127.0.0.1:1111');
    y.advertise('http://127.0.0.1:2222');
    const urlInLease = async () => (await rest.get<{ metadata: { annotations?: Record<string, string> } }>(paths.lease(ns?.name ?? '', 'advertised'))).metadata.annotations?.[ANNOTATIONS.agentUrl.key];
    expect(await x.tryAcquireOrRenew()).toBe(true);
    expect(await urlInLease()).toBe('http://127.0.0.1:1111');
    expect(y.holder()).toBeUndefined();
    expect(await y.tryAcquireOrRenew()).toBe(false);
    expect(y.holder()).toEqual({ identity: 'x', url: 'http://127.0.0.1:1111' });
    // The holder itself has no one to forward to.
    expect(x.holder()).toBeUndefined();
    // Not read again for a lease duration (the apiserver unreachable, say): no longer trusted.
    cy.t = 6000;
    expect(y.holder()).toBeUndefined();
    // x renews; y reads the new record and knows x again.
    cx.t = 1000;
    expect(await x.tryAcquireOrRenew()).toBe(true);
    expect(await y.tryAcquireOrRenew()).toBe(false);
    expect(y.holder()).toEqual({ identity: 'x', url: 'http://127.0.0.1:1111' });
    await x.stop();
    expect(await urlInLease()).toBeUndefined();
    expect(await y.tryAcquireOrRenew()).toBe(true);
    expect(await urlInLease()).toBe('http://127.0.0.1:2222');
    expect(await x.tryAcquireOrRenew()).toBe(false);
    expect(x.holder()).toEqual({ identity: 'y', url: 'http://127.0.0.1:2222' });
  }, 60_000);

  it('refuses timings that cannot be safe', () => {
    expect(() => new LeaderElector({ rest, namespace: 'x', name: 'y', identity: 'z', logger: quiet, leaseDurationMs: 5000, renewDeadlineMs: 6000, retryPeriodMs: 1000 })).toThrow(/retryPeriod < renewDeadline < leaseDuration/);
  });
});
