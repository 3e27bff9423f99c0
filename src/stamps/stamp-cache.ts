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

/** Where the stamps the last list/watch event showed are kept: the informers' own records, or a map. */
export interface SeenStamps {
  get(namespace: string, kind: ConfigKind, name: string): ConfigStamps | undefined;
}

/**
 * Stamps per object, as the last list/watch event said (read from `seen`), admission notes the watch
 * has not shown yet, and tombstones of deletions. The in-memory cache and the informer share it; the
 * informer's records are the seen stamps themselves, so a cluster's objects are indexed once.
 */
export class StampStore implements StampCache {
  /** Stamps issued at admission that the watch has not shown yet. */
  private readonly notes = new Map<string, ConfigStamps>();
  private readonly tombstones = new Map<string, number>();
  private isSynced: boolean;

  constructor(
    private readonly seen: SeenStamps,
    opts: { synced?: boolean } = {},
  ) {
    this.isSynced = opts.synced ?? true;
  }

  private static id(namespace: string, kind: ConfigKind, name: string): string {
    return `${kind}\u0000${namespace}\u0000${name}`;
  }

  /** A list/watch event showed the object with these stamps (already kept in `seen`). */
  observed(kind: ConfigKind, namespace: string, name: string, stamps: ConfigStamps): void {
    if (this.tombstones.size === 0 && this.notes.size === 0) return;
    const id = StampStore.id(namespace, kind, name);
    this.tombstones.delete(id);
    const noted = this.notes.get(id);
    if (noted !== undefined && (stamps.contentChangedAt ?? -Infinity) >= (noted.contentChangedAt ?? -Infinity)) this.notes.delete(id);
  }

  /** A list/watch event showed the object gone (and it is gone from `seen`). */
  removed(kind: ConfigKind, namespace: string, name: string, at: number): void {
    const id = StampStore.id(namespace, kind, name);
    this.notes.delete(id);
    this.tombstones.set(id, at);
    // Hash-suffixed config churns names; forget deletions far older than any config window. A
    // forgotten one reads as missing, which is never more permissive (F1).
    if (this.tombstones.size > MAX_TOMBSTONES) {
      for (const [key, when] of this.tombstones) if (when < at - TOMBSTONE_TTL_MS) this.tombstones.delete(key);
    }
  }

  /** Forgets notes and tombstones (a fresh start). */
  protected forget(): void {
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
    const seen = this.seen.get(namespace, kind, name);
    const id = this.notes.size === 0 && this.tombstones.size === 0 ? undefined : StampStore.id(namespace, kind, name);
    const noted = id === undefined ? undefined : this.notes.get(id);
    if (seen !== undefined || noted !== undefined) {
      return {
        state: 'present',
        createdAt: later(seen?.createdAt, noted?.createdAt),
        contentChangedAt: later(seen?.contentChangedAt, noted?.contentChangedAt),
        lastWriteAt: later(seen?.lastWriteAt, noted?.lastWriteAt),
      };
    }
    const at = id === undefined ? undefined : this.tombstones.get(id);
    return at === undefined ? { state: 'missing' } : { state: 'deleted', at };
  }
}

/** Seen stamps by kind, namespace and name, for a cache fed directly rather than by informers. */
class SeenStampsMap implements SeenStamps {
  private readonly byKey = new Map<string, Map<string, ConfigStamps>>();

  get(namespace: string, kind: ConfigKind, name: string): ConfigStamps | undefined {
    return this.byKey.get(`${kind}\u0000${namespace}`)?.get(name);
  }

  set(namespace: string, kind: ConfigKind, name: string, stamps: ConfigStamps): void {
    const key = `${kind}\u0000${namespace}`;
    let names = this.byKey.get(key);
    if (names === undefined) this.byKey.set(key, (names = new Map<string, ConfigStamps>()));
    names.set(name, stamps);
  }

  delete(namespace: string, kind: ConfigKind, name: string): void {
    this.byKey.get(`${kind}\u0000${namespace}`)?.delete(name);
  }

  clear(): void {
    this.byKey.clear();
  }
}

/** The cache used in tests and in `rollguard webhook --no-kube`: fed object metadata directly. */
export class InMemoryStampCache extends StampStore {
  private readonly objects: SeenStampsMap;

  constructor(opts: { synced?: boolean } = {}) {
    const objects = new SeenStampsMap();
    super(objects, opts);
    this.objects = objects;
  }

  upsert(kind: ConfigKind, meta: MetadataLike): void {
    if (meta.name === undefined) return;
    const stamps = stampsFromMetadata(meta);
    this.objects.set(meta.namespace ?? '', kind, meta.name, stamps);
    this.observed(kind, meta.namespace ?? '', meta.name, stamps);
  }

  remove(kind: ConfigKind, meta: MetadataLike, at: number): void {
    if (meta.name === undefined) return;
    this.objects.delete(meta.namespace ?? '', kind, meta.name);
    this.removed(kind, meta.namespace ?? '', meta.name, at);
  }

  /** Forgets everything, as a fresh start. */
  clear(): void {
    this.objects.clear();
    this.forget();
  }
}
