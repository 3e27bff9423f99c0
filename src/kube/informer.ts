import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { connectionOf, type KubeAccess, type KubeConnection } from './connection.js';
import { kubeStream, type KubeStream } from './kube-http.js';
import { WATCH_ACCEPT, listObjects, metadataOnly as keepMetadataOnly, withQuery } from './list-objects.js';
import { NamespacedStore } from './namespaced-store.js';
import { onReachableAgain } from './reachability.js';
import { askWhileDown } from './reachability-poll.js';

// One resource kept in memory by list, then watch. A watch that ends (the server's timeout, a cut
// connection) resumes from the last resourceVersion it saw, bookmarks included, so an outage costs no
// relist unless the history it would resume from is gone (410 Gone), and only then the whole
// collection is listed again. A failed watch is restarted with a capped exponential backoff; the
// informer reads as not synced from the failure until a watch is established again (or a relist
// completes), so callers can tell stale from fresh (F1) and readiness comes back with the watch.
// managedFields are dropped: they are most of an object's size and rollguard never reads them here.

export interface InformerOptions<T extends KubernetesObject> {
  kubeConfig: KubeAccess;
  /** Cluster-wide collection path, e.g. /apis/apps/v1/deployments. */
  path: string;
  /** List and watch as PartialObjectMetadata (F3 for Secrets; memory for the rest). */
  metadataOnly: boolean;
  logger: Logger;
  clock: () => number;
  /** First pause before restarting a failed watch (default 1 s); it doubles per consecutive failure. */
  restartDelayMs?: number;
  /** The longest pause between restarts (default 30 s). */
  maxRestartDelayMs?: number;
  /** While a restart waits on an apiserver that does not answer, how often it is asked whether it is back (default 2 s, see reachability-poll.ts). */
  askEveryMs?: number;
  /** Reduces each object before it is kept (default: drop managedFields); `previous` is the version it replaces, if any. */
  trim?: (obj: T, previous: T | undefined) => T;
}

export type InformerEvent = 'add' | 'update' | 'delete';

export function dropManagedFields<T extends KubernetesObject>(obj: T): T {
  if (obj.metadata?.managedFields === undefined) return obj;
  // fromEntries defines own data properties (a "__proto__" key stays data), and unlike a
  // null-prototype copy it gives V8 a compact object instead of a dictionary (~350 B less each).
  const metadata: Record<string, unknown> = Object.fromEntries(Object.entries(obj.metadata).filter(([k]) => k !== 'managedFields'));
  return Object.assign({}, obj, { metadata });
}

/** The pause before restart number `failures` (0-based): base·2^failures, capped, ±20% jitter so replicas spread out. */
export function restartDelay(failures: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const nominal = Math.min(maxMs, baseMs * 2 ** Math.min(failures, 30));
  return Math.min(maxMs, Math.round(nominal * (0.8 + 0.4 * random())));
}

/** How long the server keeps one watch open, spread so that replicas do not renew in step. */
function watchSeconds(random: () => number = Math.random): number {
  return 300 + Math.floor(random() * 300);
}

const MIN_WATCH_INTERVAL_MS = 1000;

interface WatchEvent {
  type?: string;
  object?: KubernetesObject & { code?: number; message?: string };
}

export class Informer<T extends KubernetesObject> {
  private readonly conn: KubeConnection;
  private readonly store = new NamespacedStore<T>();
  private resourceVersion: string | undefined;
  private isSynced = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private stream: KubeStream | undefined;
  private lastEventAt: number | undefined;
  /** Consecutive failed watch or list attempts, for the backoff; 0 once a watch is established. */
  private failures = 0;
  /** When the last watch was requested (performance.now()): the next waits until a second has passed. */
  private watchRequestedAt = Number.NEGATIVE_INFINITY;
  private readonly handlers: ((event: InformerEvent, obj: T) => void)[] = [];
  /** Set while a failed watch waits out its backoff: the apiserver answering again ends the wait. */
  private backoff: { timer: NodeJS.Timeout; unsubscribe: () => void; release: () => void } | undefined;

  constructor(private readonly opts: InformerOptions<T>) {
    this.conn = connectionOf(opts.kubeConfig);
  }

  on(handler: (event: InformerEvent, obj: T) => void): void {
    this.handlers.push(handler);
  }

  synced(): boolean {
    return this.isSynced;
  }

  /** When the last list or watch event arrived (epoch ms), for the watch-age metric. */
  lastEvent(): number | undefined {
    return this.lastEventAt;
  }

  list(namespace?: string): readonly T[] {
    return this.store.list(namespace);
  }

  get(namespace: string, name: string): T | undefined {
    return this.store.get(namespace, name) ?? this.store.get(undefined, name);
  }

  /** Lists, then watches; a failure on the way is logged and retried, never thrown. */
  async start(): Promise<void> {
    await this.cycle(true);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.endBackoff();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.stream?.close();
    this.stream = undefined;
    return Promise.resolve();
  }

  private emit(event: InformerEvent, obj: T): void {
    this.lastEventAt = this.opts.clock();
    for (const h of this.handlers) {
      // One handler's bug must not end the watch every other reader depends on.
      try {
        h(event, obj);
      } catch (err) {
        this.opts.logger.error({ path: this.opts.path, event, error: err instanceof Error ? err.message : String(err) }, 'an informer handler failed');
      }
    }
  }

  private keep(obj: T): T {
    const trim = this.opts.trim ?? dropManagedFields;
    return trim(this.opts.metadataOnly ? keepMetadataOnly(obj) : obj, this.store.get(obj.metadata?.namespace, obj.metadata?.name));
  }

  private async cycle(relist: boolean): Promise<void> {
    if (this.stopped) return;
    try {
      if (relist || this.resourceVersion === undefined) await this.relist();
      await this.watch();
    } catch (err) {
      this.failed(err);
    }
  }

  private async relist(): Promise<void> {
    const { path, metadataOnly } = this.opts;
    const listed = await listObjects<T>(this.conn, path, metadataOnly, (item) => this.keep(item));
    const seen = new Set<T>();
    for (const obj of listed.items) {
      seen.add(obj);
      const before = this.store.get(obj.metadata?.namespace, obj.metadata?.name);
      this.store.set(obj);
      if (before === undefined) this.emit('add', obj);
      else if (before.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emit('update', obj);
    }
    for (const obj of [...this.store.values()]) {
      if (seen.has(obj)) continue;
      this.store.delete(obj.metadata?.namespace, obj.metadata?.name);
      this.emit('delete', obj);
    }
    this.resourceVersion = listed.resourceVersion;
    this.isSynced = true;
    this.lastEventAt = this.opts.clock();
  }

  private async watch(): Promise<void> {
    const { path, metadataOnly } = this.opts;
    // Whatever ended the last watch (its timeout, a 410 right after it opened, a reset, a proxy that
    // ends each at once): never more than one watch request a second, or recovery becomes a hot loop.
    const early = MIN_WATCH_INTERVAL_MS - (performance.now() - this.watchRequestedAt);
    if (early > 0) await new Promise((resolve) => { this.timer = setTimeout(resolve, early); });
    const seconds = watchSeconds();
    const target = withQuery(path, { watch: 'true', resourceVersion: this.resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: String(seconds) });
    let stream: KubeStream;
    try {
      // Idle past the server's own timeout means a connection that died without closing.
      stream = await kubeStream(this.conn, target, { Accept: metadataOnly ? WATCH_ACCEPT : 'application/json' }, (seconds + 60) * 1000);
    } finally {
      // Counted from the answer, not the send: a request slow to arrive (a new connection's
      // handshake on a busy node) must not reach the server within a second of the next one.
      this.watchRequestedAt = performance.now();
    }
    if (this.stopped) {
      stream.close();
      return;
    }
    const { res } = stream;
    if (res.statusCode !== 200) {
      const body = await readAll(res);
      if (res.statusCode === 410) {
        this.expired();
        return;
      }
      throw new Error(`watch of ${path} refused: HTTP ${String(res.statusCode)}: ${statusMessage(body)}`);
    }
    this.stream = stream;
    if (this.failures > 0) this.opts.logger.info({ path, failedAttempts: this.failures }, 'watch resumed');
    this.failures = 0;
    this.isSynced = true;
    this.follow(stream);
  }

  /** Reads the stream's events until it ends; then resumes, relists or backs off, once per stream. */
  private follow(stream: KubeStream): void {
    let buffered = '';
    let over = false;
    const finish = (next: () => void): void => {
      if (over) return;
      over = true;
      stream.close();
      if (this.stream === stream) this.stream = undefined;
      if (!this.stopped) next();
    };
    stream.res.setEncoding('utf8');
    stream.res.on('data', (chunk: string) => {
      buffered += chunk;
      let nl;
      while (!over && (nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line === '') continue;
        let event: WatchEvent;
        try {
          event = JSON.parse(line) as WatchEvent;
        } catch (err) {
          event = { type: 'not JSON', object: { code: 0, message: err instanceof Error ? err.message : String(err) } };
        }
        const outcome = this.apply(event);
        if (outcome === 'expired') finish(() => { this.expired(); });
        else if (outcome instanceof Error) finish(() => { this.failed(outcome); });
      }
    });
    // The server ends every watch at its timeoutSeconds: resume from where it stopped (watch() keeps
    // to one request a second).
    stream.res.once('end', () => {
      finish(() => void this.cycle(false));
    });
    stream.res.once('error', (err) => { finish(() => { this.failed(err); }); });
    stream.res.once('close', () => { finish(() => { this.failed(new Error(`watch of ${this.opts.path} was cut`)); }); });
  }

  private apply(event: WatchEvent): 'go on' | 'expired' | Error {
    const obj = event.object;
    if (obj === undefined) return new Error(`watch of ${this.opts.path} sent an event without an object`);
    const rv = obj.metadata?.resourceVersion;
    this.lastEventAt = this.opts.clock();
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED': {
        const kept = this.keep(obj as T);
        const existed = this.store.has(kept.metadata?.namespace, kept.metadata?.name);
        this.store.set(kept);
        if (rv !== undefined) this.resourceVersion = rv;
        this.emit(existed ? 'update' : 'add', kept);
        return 'go on';
      }
      case 'DELETED': {
        const kept = this.store.get(obj.metadata?.namespace, obj.metadata?.name) ?? this.keep(obj as T);
        this.store.delete(obj.metadata?.namespace, obj.metadata?.name);
        if (rv !== undefined) this.resourceVersion = rv;
        this.emit('delete', kept);
        return 'go on';
      }
      case 'BOOKMARK':
        if (rv !== undefined) this.resourceVersion = rv;
        return 'go on';
      case 'ERROR':
        if (obj.code === 410) return 'expired';
        return new Error(`watch of ${this.opts.path} ended with an error: ${obj.message ?? JSON.stringify(obj)}`);
      case 'not JSON':
        return new Error(`watch of ${this.opts.path} sent an event that is not JSON: ${obj.message ?? ''}`);
      default:
        return new Error(`watch of ${this.opts.path} sent an event of unknown type ${String(event.type)}`);
    }
  }

  /** The history to resume from is gone (410): stale until the collection is listed again, at once. */
  private expired(): void {
    this.isSynced = false;
    this.resourceVersion = undefined;
    this.opts.logger.info({ path: this.opts.path }, 'watch history expired; listing again');
    void this.cycle(true);
  }

  private failed(err: unknown): void {
    this.isSynced = false;
    if (this.stopped) return;
    const delayMs = restartDelay(this.failures, this.opts.restartDelayMs ?? 1000, this.opts.maxRestartDelayMs ?? 30_000);
    this.failures++;
    // Loud on the first failure of a streak, quiet while it lasts (the retries go on underneath).
    const level = this.failures === 1 ? 'warn' : 'debug';
    this.opts.logger[level]({ path: this.opts.path, error: err instanceof Error ? err.message : String(err), retryInMs: delayMs, failedAttempts: this.failures }, 'watch failed; restarting after a pause');
    this.waitOut(delayMs);
  }

  /**
   * Restarts after `delayMs`, or about a second after any request on this connection (the Lease's
   * renewals, a probe, or the connection's own question while it waits) finds the apiserver
   * answering again, whichever comes first: after an outage the watches come back with the
   * apiserver, not up to a full backoff later. Spread over half a second either way, so replicas
   * and resources do not return in step.
   */
  private waitOut(delayMs: number): void {
    this.endBackoff();
    const restart = (): void => {
      this.endBackoff();
      void this.cycle(false);
    };
    const unsubscribe = onReachableAgain(this.conn, () => {
      if (this.backoff === undefined) return;
      clearTimeout(this.backoff.timer);
      this.backoff.timer = setTimeout(restart, Math.round(500 + Math.random() * 1000));
    });
    this.backoff = { timer: setTimeout(restart, delayMs), unsubscribe, release: askWhileDown(this.conn, this.opts.askEveryMs) };
  }

  private endBackoff(): void {
    if (this.backoff === undefined) return;
    clearTimeout(this.backoff.timer);
    this.backoff.unsubscribe();
    this.backoff.release();
    this.backoff = undefined;
  }
}

function readAll(res: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.once('end', () => { resolve(Buffer.concat(chunks).toString('utf8')); });
    res.once('error', () => { resolve(Buffer.concat(chunks).toString('utf8')); });
  });
}

function statusMessage(body: string): string {
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body.slice(0, 300);
  } catch {
    return body.slice(0, 300);
  }
}
