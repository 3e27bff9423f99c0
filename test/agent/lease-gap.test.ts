import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { LeaderElector } from '../../src/agent/lease.js';
import { KubeApiError, type KubeRest } from '../../src/kube/rest.js';
import { waitFor } from '../support/wait.js';

// F4: a holder whose renewal lands only after its renew deadline (a slow apiserver, a starved
// process) was not the leader in between: work gated on isLeader() was skipped then (a decision
// change seen in the watch went unpublished). Its listeners must hear of the gap as a term that
// ended and a new one, or the new term's catch-up (publishing what was missed) never runs.

type LeaseObject = { metadata: { resourceVersion?: string }; spec?: Record<string, unknown> };

/** A Lease on an apiserver whose reads the test can hold. */
class HeldLease {
  private lease: LeaseObject | undefined;
  private hold: Promise<void> | undefined;
  private release: (() => void) | undefined;
  held = 0;

  holdReads(): void {
    this.hold = new Promise((resolve) => {
      this.release = resolve;
    });
  }

  releaseReads(): void {
    this.hold = undefined;
    this.release?.();
  }

  async get<T>(_path: string): Promise<T> {
    if (this.hold !== undefined) {
      this.held++;
      await this.hold;
    }
    if (this.lease === undefined) throw new KubeApiError(404, 'NotFound', 'no lease');
    return structuredClone(this.lease) as T;
  }

  create<T>(_path: string, body: LeaseObject): Promise<T> {
    this.lease = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: '1' } };
    return Promise.resolve(structuredClone(this.lease) as T);
  }

  update<T>(_path: string, body: LeaseObject): Promise<T> {
    if (body.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) return Promise.reject(new KubeApiError(409, 'Conflict', 'modified'));
    this.lease = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(Number(body.metadata.resourceVersion) + 1) } };
    return Promise.resolve(structuredClone(this.lease) as T);
  }
}

describe('F4 a lease renewed only after its renew deadline', () => {
  const electors: LeaderElector[] = [];

  afterEach(async () => {
    for (const e of electors.splice(0)) await e.stop();
  });

  /** An elector on a stubbed Lease and a clock of the test's, leading its first term (renew deadline 200 ms). */
  async function firstTerm(): Promise<{ api: HeldLease; clock: { t: number }; elector: LeaderElector; told: boolean[] }> {
    const api = new HeldLease();
    const clock = { t: 0 };
    const elector = new LeaderElector({ rest: api as unknown as KubeRest, namespace: 'rollguard', name: 'rollguard-agent', identity: 'a', logger: pino({ level: 'silent' }), leaseDurationMs: 300, renewDeadlineMs: 200, retryPeriodMs: 20, monotonic: () => clock.t });
    electors.push(elector);
    const told: boolean[] = [];
    elector.onChange((leading) => told.push(leading));
    elector.start();
    await waitFor('the first term', () => told.length === 1 || undefined, { timeoutMs: 5000 });
    return { api, clock, elector, told };
  }

  it('is told to the listeners as the end of a term and a new one, even when the renewal that ends the gap makes it leader again at once', async () => {
    const { api, clock, elector, told } = await firstTerm();
    expect(told).toEqual([true]);
    // The next round starts 100 ms after the last renewal, and the apiserver takes 150 ms to answer it.
    api.holdReads();
    clock.t = 100;
    await waitFor('a renewal in flight', () => api.held > 0 || undefined, { timeoutMs: 5000 });
    clock.t = 250;
    // 250 ms after the last renewal: past the renew deadline, not the leader.
    expect(elector.isLeader()).toBe(false);
    api.releaseReads();
    // The renewal sent at 100 lands: leading again, until 300.
    await waitFor('the gap to be told', () => told.length >= 3 || undefined, { timeoutMs: 5000, detail: () => JSON.stringify(told) });
    expect(elector.isLeader()).toBe(true);
    expect(told).toEqual([true, false, true]);
  });

  it('a renewal in time is no new term', async () => {
    const { api, clock, elector, told } = await firstTerm();
    api.holdReads();
    clock.t = 100;
    await waitFor('a renewal in flight', () => api.held > 0 || undefined, { timeoutMs: 5000 });
    clock.t = 199;
    api.releaseReads();
    // Several more rounds.
    await new Promise((r) => setTimeout(r, 150));
    expect(elector.isLeader()).toBe(true);
    expect(told).toEqual([true]);
  });
});
