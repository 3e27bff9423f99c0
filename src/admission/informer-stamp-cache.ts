import { HttpMethod, KubeConfig, ListWatch, RequestContext, V1ListMeta, Watch, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { fetch } from 'undici';
import type { ConfigKind } from '../core/template-refs.js';
import { StampStore, type ConfigLookup, type ConfigStamps, type StampCache } from './stamp-cache.js';

// The stamp cache in the cluster: list+watch of ConfigMaps and Secrets through the real
// @kubernetes/client-node ListWatch, asking the apiserver for metadata only
// (PartialObjectMetadata). F3: Secret data is never requested, and anything but metadata that
// arrives anyway is dropped before it is stored.

const META = 'g=meta.k8s.io;v=v1';
export const LIST_ACCEPT = `application/json;as=PartialObjectMetadataList;${META}`;
export const WATCH_ACCEPT = `application/json;as=PartialObjectMetadata;${META}`;

const PATHS: Record<ConfigKind, string> = { ConfigMap: '/api/v1/configmaps', Secret: '/api/v1/secrets' };

/** Only apiVersion, kind and metadata survive: whatever else a server sends is never kept. */
export function metadataOnly(obj: KubernetesObject): KubernetesObject {
  return { apiVersion: obj.apiVersion, kind: obj.kind, metadata: obj.metadata };
}

/** A KubeConfig whose requests (the client-node Watch's) ask for metadata only. */
export class MetadataWatchConfig extends KubeConfig {
  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    context.setHeaderParam('Accept', WATCH_ACCEPT);
  }
}

/** Drops everything but metadata from watch events before client-node's cache stores them. */
export class MetadataWatch extends Watch {
  override watch(path: string, queryParams: Record<string, string | number | boolean | undefined>, callback: (phase: string, apiObj: KubernetesObject, watchObj?: unknown) => void, done: (err: unknown) => void): Promise<AbortController> {
    return super.watch(path, queryParams, (phase, obj: KubernetesObject) => {
      callback(phase, phase === 'ERROR' ? obj : metadataOnly(obj));
    }, done);
  }
}

async function listMetadata(kc: KubeConfig, path: string): Promise<KubernetesListObject<KubernetesObject>> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = `${cluster.server}${path}`;
  const ctx = new RequestContext(url, HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  ctx.setHeaderParam('Accept', LIST_ACCEPT);
  const res = await fetch(url, { headers: ctx.getHeaders(), dispatcher: ctx.getDispatcher() });
  if (res.status !== 200) {
    await res.body?.cancel();
    throw Object.assign(new Error(`listing ${path} failed: HTTP ${String(res.status)}`), { statusCode: res.status });
  }
  const body = (await res.json()) as { kind?: unknown; metadata?: { resourceVersion?: string }; items?: KubernetesObject[] };
  if (body.kind !== 'PartialObjectMetadataList') {
    throw new Error(`the API server answered ${path} with ${String(body.kind)} instead of PartialObjectMetadataList; rollguard never caches full ConfigMaps or Secrets (F3)`);
  }
  const metadata = new V1ListMeta();
  metadata.resourceVersion = body.metadata?.resourceVersion;
  return { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadataList', metadata, items: (body.items ?? []).map(metadataOnly) };
}

export interface InformerStampCacheOptions {
  /** Loaded the usual way (in-cluster or KUBECONFIG); copied into a metadata-only config. */
  kubeConfig: KubeConfig;
  logger: Logger;
  clock: () => number;
  /** Wait before restarting a list+watch that failed. */
  restartDelayMs?: number;
}

export class InformerStampCache implements StampCache {
  private readonly store = new StampStore({ synced: false });
  private readonly syncedKinds = new Set<ConfigKind>();
  private readonly watches: ListWatch<KubernetesObject>[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly opts: InformerStampCacheOptions) {}

  async start(): Promise<void> {
    const kc = new MetadataWatchConfig();
    kc.loadFromString(this.opts.kubeConfig.exportConfig());
    await Promise.all((Object.keys(PATHS) as ConfigKind[]).map((kind) => this.startKind(kc, kind)));
  }

  private async startKind(kc: MetadataWatchConfig, kind: ConfigKind): Promise<void> {
    const path = PATHS[kind];
    // Synced once a full list has been taken (its items are stored before any request can run).
    const list = async (): Promise<KubernetesListObject<KubernetesObject>> => {
      const listed = await listMetadata(kc, path);
      this.syncedKinds.add(kind);
      this.updateSynced();
      return listed;
    };
    const lw = new ListWatch<KubernetesObject>(path, new MetadataWatch(kc), list, false);
    const upsert = (obj: KubernetesObject): void => {
      this.store.upsert(kind, obj.metadata ?? {});
    };
    lw.on('add', upsert);
    lw.on('update', upsert);
    lw.on('delete', (obj) => {
      this.store.remove(kind, { name: obj.metadata?.name, namespace: obj.metadata?.namespace }, this.opts.clock());
    });
    lw.on('error', (err: unknown) => {
      // client-node's ListWatch stops on an error other than 410 Gone; start it again after a pause.
      this.syncedKinds.delete(kind);
      this.updateSynced();
      this.opts.logger.warn({ kind, error: err instanceof Error ? err.message : String(err) }, 'stamp cache watch failed; eligibility is unknown until it recovers');
      if (this.stopped) return;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!this.stopped) lw.start().catch(() => undefined);
      }, this.opts.restartDelayMs ?? 5000);
      this.timers.add(timer);
    });
    this.watches.push(lw);
    await lw.start();
  }

  private updateSynced(): void {
    this.store.setSynced(this.syncedKinds.size === Object.keys(PATHS).length);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.all(this.watches.map((w) => w.stop()));
  }

  synced(): boolean {
    return this.store.synced();
  }

  lookup(namespace: string, kind: ConfigKind, name: string): ConfigLookup {
    return this.store.lookup(namespace, kind, name);
  }

  noteAdmitted(namespace: string, kind: ConfigKind, name: string, stamps: ConfigStamps): void {
    this.store.noteAdmitted(namespace, kind, name, stamps);
  }
}
