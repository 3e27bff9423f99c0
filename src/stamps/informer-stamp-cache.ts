import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ConfigKind } from '../core/template-refs.js';
import { Informer } from '../kube/informer.js';
import { StampStore, stampsFromMetadata, type StampMetadata, type ConfigLookup, type ConfigStamps, type StampCache } from './stamp-cache.js';
import type { KubeAccess } from '../kube/connection.js';

export { LIST_ACCEPT, metadataOnly, WATCH_ACCEPT } from '../kube/list-objects.js';

// The stamp cache in the cluster: list+watch of ConfigMaps and Secrets as metadata only
// (PartialObjectMetadata). F3: Secret data is never requested, and anything but metadata that
// arrives anyway is dropped before it is stored.

const PATHS: Record<ConfigKind, string> = { ConfigMap: '/api/v1/configmaps', Secret: '/api/v1/secrets' };

/**
 * What the informer keeps of one object: the keys list+watch need (name, namespace,
 * resourceVersion) and the stamps read once into numbers; the StampStore reads them here.
 * Annotations, labels and managedFields are dropped as soon as the stamps are read from them.
 */
interface StampRecord extends ConfigStamps {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

const namespaces = new Map<string, string>();

/** One string per namespace name, however many objects were parsed with it (a cluster has few namespaces). */
function interned(namespace: string | undefined): string | undefined {
  if (namespace === undefined) return undefined;
  const known = namespaces.get(namespace);
  if (known !== undefined) return known;
  namespaces.set(namespace, namespace);
  return namespace;
}

function forStamps(o: KubernetesObject): StampRecord {
  const meta: StampMetadata = o.metadata ?? {};
  const { createdAt, contentChangedAt, lastWriteAt } = stampsFromMetadata(meta);
  return { metadata: { name: meta.name, namespace: interned(meta.namespace), resourceVersion: meta.resourceVersion }, createdAt, contentChangedAt, lastWriteAt };
}

export interface InformerStampCacheOptions {
  /** Loaded the usual way (in-cluster or KUBECONFIG); copied into a metadata-only config. */
  kubeConfig: KubeAccess;
  logger: Logger;
  clock: () => number;
  /** Wait before restarting a list+watch that failed. */
  restartDelayMs?: number;
}

export class InformerStampCache implements StampCache {
  private readonly store: StampStore;
  private readonly informers: Informer<StampRecord>[];

  constructor(private readonly opts: InformerStampCacheOptions) {
    const kinds = Object.keys(PATHS) as ConfigKind[];
    this.store = new StampStore({ synced: false, seen: (namespace, kind, name) => this.informers[kinds.indexOf(kind)]?.get(namespace, name) });
    this.informers = kinds.map((kind) => {
      // Only what the stamps need (managedFields' times bound an unstamped object's last write).
      const informer = new Informer<StampRecord>({ ...opts, path: PATHS[kind], metadataOnly: true, trim: forStamps });
      informer.on((event, obj) => {
        const name = obj.metadata?.name;
        const namespace = obj.metadata?.namespace;
        if (event === 'delete') this.store.remove(kind, { name, namespace }, this.opts.clock());
        else if (name !== undefined) this.store.upsertStamps(kind, namespace ?? '', name, obj);
        this.updateSynced();
      });
      return informer;
    });
  }

  async start(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.start()));
    this.updateSynced();
  }

  /** When the last list or watch event arrived, per resource. */
  lastEvents(): { resource: string; at: number | undefined }[] {
    return this.informers.map((i, n) => ({ resource: Object.values(PATHS)[n] ?? '', at: i.lastEvent() }));
  }

  private updateSynced(): void {
    this.store.setSynced(this.informers.every((i) => i.synced()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  synced(): boolean {
    this.updateSynced();
    return this.store.synced();
  }

  lookup(namespace: string, kind: ConfigKind, name: string): ConfigLookup {
    return this.store.lookup(namespace, kind, name);
  }

  noteAdmitted(namespace: string, kind: ConfigKind, name: string, stamps: ConfigStamps): void {
    this.store.noteAdmitted(namespace, kind, name, stamps);
  }
}
