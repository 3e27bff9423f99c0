import { KubeConfig, ListWatch, V1ListMeta, Watch, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { MetadataWatch, MetadataWatchConfig, listObjects } from './list-objects.js';

// One resource kept in memory by list+watch, through client-node's ListWatch (which relists on
// 410 Gone). A failed watch is restarted after a pause and the informer reads as not synced until
// it has listed again, so callers can tell stale from fresh (F1). managedFields are dropped: they
// are most of an object's size and rollguard never reads them from here.

export interface InformerOptions<T extends KubernetesObject> {
  kubeConfig: KubeConfig;
  /** Cluster-wide collection path, e.g. /apis/apps/v1/deployments. */
  path: string;
  /** List and watch as PartialObjectMetadata (F3 for Secrets; memory for the rest). */
  metadataOnly: boolean;
  logger: Logger;
  clock: () => number;
  restartDelayMs?: number;
  /** Reduces each object before it is kept (default: drop managedFields). */
  trim?: (obj: T) => T;
}

export type InformerEvent = 'add' | 'update' | 'delete';

export function dropManagedFields<T extends KubernetesObject>(obj: T): T {
  if (obj.metadata?.managedFields === undefined) return obj;
  // fromEntries defines own data properties (a "__proto__" key stays data), and unlike a
  // null-prototype copy it gives V8 a compact object instead of a dictionary (~350 B less each).
  const metadata: Record<string, unknown> = Object.fromEntries(Object.entries(obj.metadata).filter(([k]) => k !== 'managedFields'));
  return Object.assign({}, obj, { metadata });
}

export class Informer<T extends KubernetesObject> {
  private lw: ListWatch<T> | undefined;
  private isSynced = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private lastEventAt: number | undefined;
  private readonly handlers: ((event: InformerEvent, obj: T) => void)[] = [];

  constructor(private readonly opts: InformerOptions<T>) {}

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
    return this.lw?.list(namespace) ?? [];
  }

  get(namespace: string, name: string): T | undefined {
    return this.lw?.get(name, namespace);
  }

  async start(): Promise<void> {
    const { kubeConfig, path, metadataOnly } = this.opts;
    let kc: KubeConfig = kubeConfig;
    let watch: Watch = new Watch(kubeConfig);
    if (metadataOnly) {
      const mkc = new MetadataWatchConfig();
      mkc.loadFromString(kubeConfig.exportConfig());
      kc = mkc;
      watch = new MetadataWatch(mkc);
    }
    const trim = this.opts.trim ?? dropManagedFields;
    const list = async (): Promise<KubernetesListObject<T>> => {
      const listed = await listObjects<T>(kc, path, metadataOnly, trim);
      this.isSynced = true;
      this.lastEventAt = this.opts.clock();
      const metadata = new V1ListMeta();
      metadata.resourceVersion = listed.resourceVersion;
      return { apiVersion: 'v1', kind: 'List', metadata, items: listed.items };
    };
    const wrapped = new TrimmingWatch(watch, trim);
    const lw = new ListWatch<T>(path, wrapped, list, false);
    for (const event of ['add', 'update', 'delete'] as const) {
      lw.on(event, (obj: T) => {
        this.lastEventAt = this.opts.clock();
        for (const h of this.handlers) h(event, obj);
      });
    }
    lw.on('error', (err: unknown) => {
      this.isSynced = false;
      if (this.stopped) return;
      this.opts.logger.warn({ path, error: err instanceof Error ? err.message : String(err) }, 'watch failed; restarting after a pause');
      this.timer = setTimeout(() => {
        if (!this.stopped) lw.start().catch(() => undefined);
      }, this.opts.restartDelayMs ?? 5000);
    });
    this.lw = lw;
    await lw.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.lw?.stop();
  }
}

/** Applies `trim` to every watch event before ListWatch stores the object. */
class TrimmingWatch<T extends KubernetesObject> extends Watch {
  constructor(
    private readonly inner: Watch,
    private readonly trim: (obj: T) => T,
  ) {
    super(new KubeConfig());
  }

  override watch(path: string, query: Record<string, string | number | boolean | undefined>, callback: (phase: string, obj: KubernetesObject, watchObj?: unknown) => void, done: (err: unknown) => void): Promise<AbortController> {
    return this.inner.watch(path, query, (phase, obj: KubernetesObject, w?: unknown) => {
      callback(phase, phase === 'ERROR' ? obj : this.trim(obj as T), w);
    }, done);
  }
}
