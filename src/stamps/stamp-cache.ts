import { ANNOTATIONS } from '../core/annotations.js';
import { parseInstant } from '../core/duration.js';
import type { ConfigKind } from '../core/template-refs.js';

// The webhook's view of the stamps on ConfigMaps and Secrets, for a Deployment's eligibility. Built
// from object metadata only: Secret data never enters it (F3). In the cluster an informer feeds it;
// tests feed it directly.

export interface ConfigStamps {
  createdAt: number | undefined;
  contentChangedAt: number | undefined;
  /**
   * The object's last write by anyone, from the apiserver's own bookkeeping (the newest
   * managedFields time). It bounds when an unstamped object last changed.
   */
  lastWriteAt?: number | undefined;
}

export type ConfigLookup =
  | ({ state: 'present' } & ConfigStamps)
  | { state: 'deleted'; at: number }
  | { state: 'missing' };

export interface StampCache {
  lookup(namespace: string, kind: ConfigKind, name: string): ConfigLookup;
  /** False until the cache has listed every ConfigMap and Secret: until then eligibility is unknown. */
  synced(): boolean;
  /**
   * Records stamps this webhook just issued, so a Deployment admitted right after its ConfigMap (one
   * `kubectl apply`) sees the change before the watch event arrives. Conservative: a write that is
   * later rejected only makes an eligibility stricter.
   */
  noteAdmitted(namespace: string, kind: ConfigKind, name: string, stamps: ConfigStamps): void;
}

export interface MetadataLike {
  name?: string | undefined;
  namespace?: string | undefined;
  annotations?: Readonly<Record<string, string>> | undefined;
  managedFields?: readonly { time?: string | Date | undefined }[] | undefined;
}

function toMs(t: string | Date | undefined): number | undefined {
  return t instanceof Date ? t.getTime() : parseInstant(t);
}

// Every write updates the time of the managedFields entry of the manager whose fields it changed,
// so the newest entry is at or after the last content change. Without managedFields (a client can
// clear them) nothing bounds the last write: creationTimestamp says nothing about later updates.
function lastWrite(meta: MetadataLike): number | undefined {
  let newest: number | undefined;
  for (const entry of meta.managedFields ?? []) newest = later(newest, toMs(entry.time));
  return newest;
}

export function stampsFromMetadata(meta: MetadataLike): ConfigStamps {
  return {
    createdAt: parseInstant(meta.annotations?.[ANNOTATIONS.createdAt.key]),
    contentChangedAt: parseInstant(meta.annotations?.[ANNOTATIONS.contentChangedAt.key]),
    lastWriteAt: lastWrite(meta),
  };
}

export interface StampMetadata extends MetadataLike {
  resourceVersion?: string | undefined;
}

/**
 * What the stamp cache's informers keep of an object: what stampsFromMetadata reads (the two
 * stamps, every managedFields time) and the name, namespace and resourceVersion the list+watch
 * keys on. The rest (labels, kubectl's last-applied copy of the data, the managed field sets) is
 * most of the metadata and is never read.
 */
export function metadataForStamps(meta: StampMetadata): StampMetadata {
  const annotations: Record<string, string> = {};
  for (const key of [ANNOTATIONS.createdAt.key, ANNOTATIONS.contentChangedAt.key]) {
    const value = meta.annotations?.[key];
    if (value !== undefined) annotations[key] = value;
  }
  return {
    name: meta.name,
    namespace: meta.namespace,
    resourceVersion: meta.resourceVersion,
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    ...(meta.managedFields === undefined ? {} : { managedFields: meta.managedFields.map((e) => ({ time: e.time })) }),
  };
}

function later(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

const MAX_TOMBSTONES = 10_000;
const TOMBSTONE_TTL_MS = 24 * 3_600_000;

/** Where a StampStore reads what the last list/watch event said of an object. */
export type SeenStamps = (namespace: string, kind: ConfigKind, name: string) => ConfigStamps | undefined;

/**
 * Keeps stamps per object and tombstones of deletions; the in-memory cache and the informer share
 * it. With `seen`, the objects' stamps are read there (the informers' own records) instead of being
 * kept a second time here, keyed again.
 */
export class StampStore implements StampCache {
  /** Exactly what the last list/watch event said, when this store keeps it itself. */
  private readonly objects: Map<string, ConfigStamps> | undefined;
  private readonly seen: SeenStamps;
  /** Stamps issued at admission that the watch has not shown yet. */
  private readonly notes = new Map<string, ConfigStamps>();
  private readonly tombstones = new Map<string, number>();
  private isSynced: boolean;

  constructor(opts: { synced?: boolean; seen?: SeenStamps } = {}) {
    this.isSynced = opts.synced ?? true;
    if (opts.seen !== undefined) {
      this.seen = opts.seen;
    } else {
      const objects = new Map<string, ConfigStamps>();
      this.objects = objects;
      this.seen = (namespace, kind, name) => objects.get(StampStore.id(namespace, kind, name));
    }
  }

  private static id(namespace: string, kind: ConfigKind, name: string): string {
    return `${kind}\u0000${namespace}\u0000${name}`;
  }

  upsert(kind: ConfigKind, meta: MetadataLike): void {
    if (meta.name === undefined) return;
    this.upsertStamps(kind, meta.namespace ?? '', meta.name, stampsFromMetadata(meta));
  }

  /** What the last list/watch event said of one object, already read into its stamps. */
  upsertStamps(kind: ConfigKind, namespace: string, name: string, seen: ConfigStamps): void {
    const id = StampStore.id(namespace, kind, name);
    this.objects?.set(id, seen);
    this.tombstones.delete(id);
    const noted = this.notes.get(id);
    if (noted !== undefined && (seen.contentChangedAt ?? -Infinity) >= (noted.contentChangedAt ?? -Infinity)) this.notes.delete(id);
  }

  remove(kind: ConfigKind, meta: MetadataLike, at: number): void {
    if (meta.name === undefined) return;
    const id = StampStore.id(meta.namespace ?? '', kind, meta.name);
    this.objects?.delete(id);
    this.notes.delete(id);
    this.tombstones.set(id, at);
    // Hash-suffixed config churns names; forget deletions far older than any config window. A
    // forgotten one reads as missing, which is never more permissive (F1).
    if (this.tombstones.size > MAX_TOMBSTONES) {
      for (const [key, when] of this.tombstones) if (when < at - TOMBSTONE_TTL_MS) this.tombstones.delete(key);
    }
  }

  /** Forgets everything it keeps (a fresh start, as after losing the watch); what `seen` reads is its owner's. */
  clear(): void {
    this.objects?.clear();
    this.notes.clear();
    this.tombstones.clear();
  }

  setSynced(value: boolean): void {
    this.isSynced = value;
  }

  synced(): boolean {
    return this.isSynced;
  }

  noteAdmitted(namespace: string, kind: ConfigKind, name: string, stamps: ConfigStamps): void {
    const id = StampStore.id(namespace, kind, name);
    const known = this.notes.get(id);
    this.notes.set(id, {
      createdAt: later(stamps.createdAt, known?.createdAt),
      contentChangedAt: later(stamps.contentChangedAt, known?.contentChangedAt),
      lastWriteAt: later(stamps.lastWriteAt, known?.lastWriteAt),
    });
  }

  lookup(namespace: string, kind: ConfigKind, name: string): ConfigLookup {
    const id = StampStore.id(namespace, kind, name);
    const seen = this.seen(namespace, kind, name);
    const noted = this.notes.get(id);
    if (seen !== undefined || noted !== undefined) {
      return {
        state: 'present',
        createdAt: later(seen?.createdAt, noted?.createdAt),
        contentChangedAt: later(seen?.contentChangedAt, noted?.contentChangedAt),
        lastWriteAt: later(seen?.lastWriteAt, noted?.lastWriteAt),
      };
    }
    const at = this.tombstones.get(id);
    return at === undefined ? { state: 'missing' } : { state: 'deleted', at };
  }
}

/** The in-memory cache used in tests and in `rollguard webhook --no-kube`. */
export class InMemoryStampCache extends StampStore {}
