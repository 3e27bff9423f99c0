import type { Logger } from 'pino';
import { ANNOTATIONS } from '../core/annotations.js';
import { isStatus, paths, type KubeRest } from '../kube/rest.js';

// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it: the
// holder renews every `retryPeriod`; another candidate takes over once it has seen the same record
// unchanged for `leaseDuration` by its own clock (clocks of different machines are never
// compared). The holder counts itself leader only until `renewDeadline` after its last successful
// renewal, measured on a monotonic clock, so a process that was paused (SIGSTOP, a long GC, a
// frozen VM) stops acting before anyone else can have taken over.
//
// The holder also writes where it serves HTTP (ANNOTATIONS.agentUrl) on every write of the Lease,
// so a standby, which reads the Lease each round anyway, knows where the leader is without an
// extra request.
//
// A holder whose renewal landed only after its renew deadline had passed (a slow apiserver, a
// starved process) was not the leader in between: whatever asked isLeader() then was told no and
// skipped its work (a decision change seen in the watch went unpublished). Listeners are told of
// that gap as a term that ended and a new one that began, so a new term's catch-up runs.

export interface LeaseOptions {
  rest: KubeRest;
  namespace: string;
  name: string;
  identity: string;
  logger: Logger;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Wall clock for the times written into the Lease. */
  clock?: () => number;
  /** Monotonic clock (ms) for every validity judgement. */
  monotonic?: () => number;
}

interface LeaseObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; annotations?: Record<string, string> };
  spec?: { holderIdentity?: string | null; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

/** MicroTime, as the apiserver writes it: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Another replica holding the Lease, as last seen, and the URL it advertises (if any). */
export interface LeaseHolder {
  identity: string;
  url: string | undefined;
}

/** The Lease's annotations with this replica's URL, or without any (a previous holder's is not ours). */
function withUrl(annotations: Record<string, string> | undefined, url: string | undefined): Record<string, string> {
  const rest = Object.fromEntries(Object.entries(annotations ?? {}).filter(([k]) => k !== ANNOTATIONS.agentUrl.key));
  return url === undefined ? rest : { ...rest, [ANNOTATIONS.agentUrl.key]: url };
}

export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  private readonly clock: () => number;
  private readonly monotonic: () => number;
  private lastRenewed: number | undefined;
  private observed: { key: string; at: number; holder: string; url: string | undefined; durationMs: number } | undefined;
  private advertised: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private leading = false;
  /** The last renewal landed after the previous one's validity had run out. */
  private lapsed = false;
  private readonly listeners: ((leading: boolean) => void)[] = [];

  constructor(private readonly opts: LeaseOptions) {
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    if (!(this.retryPeriodMs < this.renewDeadlineMs && this.renewDeadlineMs < this.leaseDurationMs)) {
      throw new Error('leader election needs retryPeriod < renewDeadline < leaseDuration');
    }
    this.clock = opts.clock ?? Date.now;
    this.monotonic = opts.monotonic ?? (() => performance.now());
  }

  get identity(): string {
    return this.opts.identity;
  }

  onChange(listener: (leading: boolean) => void): void {
    this.listeners.push(listener);
  }

  /** The base URL this replica serves HTTP at, written into the Lease while it holds it. */
  advertise(url: string): void {
    this.advertised = url;
  }

  /**
   * Another replica that holds the Lease, as last read, while that record is not older than its
   * duration by this replica's clock; undefined when nobody else does (or this replica holds it).
   */
  holder(): LeaseHolder | undefined {
    const o = this.observed;
    if (o === undefined || o.holder === '' || o.holder === this.opts.identity || this.monotonic() - o.at >= o.durationMs) return undefined;
    return { identity: o.holder, url: o.url };
  }

  /** True only while the last renewal is recent enough that nobody else can hold the Lease. */
  isLeader(): boolean {
    return this.lastRenewed !== undefined && this.monotonic() - this.lastRenewed < this.renewDeadlineMs;
  }

  /** How much longer this replica may act without renewing (ms); 0 when it does not lead. */
  validForMs(): number {
    return this.lastRenewed === undefined ? 0 : Math.max(0, this.renewDeadlineMs - (this.monotonic() - this.lastRenewed));
  }

  start(): void {
    this.running = true;
    void this.tick();
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    try {
      await this.tryAcquireOrRenew();
    } catch (err) {
      this.opts.logger.warn({ lease: this.where(), error: err instanceof Error ? err.message : String(err) }, 'lease renewal failed');
    }
    this.notify();
    // stop() may have run while the round was in flight.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (this.running) this.timer = setTimeout(() => void this.tick(), this.retryPeriodMs);
  }

  private where(): string {
    return `${this.opts.namespace}/${this.opts.name}`;
  }

  private notify(): void {
    const now = this.isLeader();
    if (this.lapsed && now && this.leading) {
      this.opts.logger.warn({ lease: this.where(), identity: this.opts.identity, renewDeadlineMs: this.renewDeadlineMs }, 'the lease was renewed only after its renew deadline: leading again after a gap');
      this.leading = false;
      for (const l of this.listeners) l(false);
    }
    this.lapsed = false;
    if (now === this.leading) return;
    this.leading = now;
    this.opts.logger.info({ lease: this.where(), identity: this.opts.identity, leading: now }, now ? 'became the leader' : 'is no longer the leader');
    for (const l of this.listeners) l(now);
  }

  /** One round: create, renew, or take over an expired Lease. Returns whether this replica holds it. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { rest, namespace, name, identity } = this.opts;
    const startedAt = this.monotonic();
    const wall = this.clock();
    let lease: LeaseObject;
    try {
      lease = await rest.get<LeaseObject>(paths.lease(namespace, name));
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
      await rest.create(paths.leases(namespace), {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace, annotations: withUrl(undefined, this.advertised) },
        spec: { holderIdentity: identity, leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000), acquireTime: microTime(wall), renewTime: microTime(wall), leaseTransitions: 0 },
      });
      this.renewed(startedAt);
      return true;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const key = `${holder}|${spec.renewTime ?? ''}`;
    const durationMs = (spec.leaseDurationSeconds ?? Math.ceil(this.leaseDurationMs / 1000)) * 1000;
    const url = lease.metadata?.annotations?.[ANNOTATIONS.agentUrl.key];
    if (this.observed?.key !== key) this.observed = { key, at: startedAt, holder, url, durationMs };
    const expired = holder === '' || startedAt - this.observed.at >= durationMs;
    if (holder !== identity && !expired) {
      this.lastRenewed = undefined;
      return false;
    }
    const takingOver = holder !== identity;
    const next: LeaseObject = {
      ...lease,
      metadata: { ...lease.metadata, annotations: withUrl(lease.metadata?.annotations, this.advertised) },
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
        renewTime: microTime(wall),
        ...(takingOver ? { acquireTime: microTime(wall), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
      },
    };
    try {
      // The resourceVersion in `next` makes this a compare-and-swap: a concurrent writer wins, we lose.
      await rest.update(paths.lease(namespace, name), next);
    } catch (err) {
      if (isStatus(err, 409)) {
        this.lastRenewed = undefined;
        return false;
      }
      throw err;
    }
    if (takingOver) this.opts.logger.info({ lease: this.where(), from: holder, identity }, 'took over the lease');
    this.renewed(startedAt);
    return true;
  }

  /** A successful write of the Lease, sent at `startedAt`; a gap since the last one's validity is noted for notify(). */
  private renewed(startedAt: number): void {
    if (this.lastRenewed !== undefined && this.monotonic() - this.lastRenewed >= this.renewDeadlineMs) this.lapsed = true;
    this.lastRenewed = startedAt;
  }

  /** Stops renewing and, when holding the Lease, gives it up so another replica takes over at once. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const held = this.isLeader();
    this.lastRenewed = undefined;
    this.notify();
    if (!held) return;
    const { rest, namespace, name, identity } = this.opts;
    try {
      const lease = await rest.get<LeaseObject>(paths.lease(namespace, name));
      if (lease.spec?.holderIdentity !== identity) return;
      await rest.update(paths.lease(namespace, name), { ...lease, metadata: { ...lease.metadata, annotations: withUrl(lease.metadata?.annotations, undefined) }, spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime(this.clock()) } });
      this.opts.logger.info({ lease: this.where(), identity }, 'released the lease');
    } catch (err) {
      this.opts.logger.warn({ lease: this.where(), error: err instanceof Error ? err.message : String(err) }, 'could not release the lease; another replica takes over when it expires');
    }
  }
}
