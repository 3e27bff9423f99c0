import type { Deployment } from '../core/kube.js';
import type { Policy } from '../core/policy.js';
import { deployRefs, refKey, type ConfigKind, type ConfigRef, type DeployRefs } from '../core/template-refs.js';
import { awaitStage, type ReviewProgress } from './deadline.js';
import type { MutateDeps } from './mutate.js';
import type { AdmissionRequest } from './review.js';
import type { ConfigLookup, ConfigStamps, StampCache } from '../stamps/stamp-cache.js';
import type { PolicyObjectsView } from '../policy/policy-objects-view.js';

// The review's inputs from outside the request, read before the (synchronous) handler runs, each
// under its deadline stage: the stamps of the ConfigMaps and Secrets a Deployment's templates read
// ('stamp-cache'), the namespace's policy ('policy'), the policy objects ('policy-objects'). The
// sources in the cluster are in-memory views fed by watches and answer at once; a source may also
// answer later (a read through to the apiserver), and then the deadline bounds the wait.

type MaybePromise<T> = T | Promise<T>;

export interface StampSource {
  lookup(namespace: string, kind: ConfigKind, name: string): MaybePromise<ConfigLookup>;
  synced(): MaybePromise<boolean>;
  noteAdmitted(namespace: string, kind: ConfigKind, name: string, stamps: ConfigStamps): void;
}

export interface MutateSources extends Omit<MutateDeps, 'cache' | 'policyFor'> {
  cache: StampSource;
  policyFor: (namespace: string) => MaybePromise<Policy>;
}

export interface PolicyObjectsSource {
  objects(): MaybePromise<ReturnType<PolicyObjectsView['objects']>>;
}

function metaNamespace(object: unknown): string | undefined {
  const meta = (object as { metadata?: { namespace?: unknown } } | null | undefined)?.metadata;
  return typeof meta?.namespace === 'string' ? meta.namespace : undefined;
}

/** A read the prefetch did not foresee: answered when the source answers at once, else the review fails open. */
function unforeseen<T>(value: MaybePromise<T>, what: string): T {
  if (value instanceof Promise) throw new Error(`${what} was not read ahead of the review`);
  return value;
}

/** What a review read of the stamp cache before its handler ran. */
interface ReadAhead {
  synced: boolean;
  namespace: string;
  /** By refKey. */
  known: ReadonlyMap<string, ConfigLookup>;
}

/** The Deployment's templates' refs (read once, for the handler too) and the stamps of what they read. */
async function stampSnapshot(source: StampSource, req: AdmissionRequest, progress: ReviewProgress): Promise<{ cache: StampCache; refs: DeployRefs }> {
  const after = req.object as Deployment | null | undefined;
  const before = (req.operation === 'UPDATE' ? req.oldObject : undefined) as Deployment | null | undefined;
  // The namespace eligibility looks the references up in (judgeEligibility).
  const namespace = after?.metadata?.namespace ?? before?.metadata?.namespace ?? '';
  const read = deployRefs(before?.spec?.template, after?.spec?.template);
  const refs = [...read.before.all, ...read.after.all];
  const syncedNow = source.synced();
  const lookups = refs.map((r) => source.lookup(namespace, r.kind, r.name));
  // An in-memory source answers at once: nothing to wait for but the stage's one await.
  const atOnce = !(syncedNow instanceof Promise) && lookups.every((l) => !(l instanceof Promise));
  const [synced, found] = await awaitStage(progress, 'stamp-cache', atOnce ? [syncedNow, lookups as ConfigLookup[]] : Promise.all([syncedNow, Promise.all(lookups.map(async (l) => l))]));
  const known = new Map<string, ConfigLookup>();
  for (let n = 0; n < refs.length; n++) {
    const r = refs[n] as ConfigRef;
    known.set(refKey(r), found[n] as ConfigLookup);
  }
  return { cache: new ReadThrough(source, { synced, namespace, known }), refs: read };
}

/**
 * The stamp cache as the handler sees it: what was read ahead, else the source when it answers at
 * once. A class, not an object of closures: one is made per review.
 */
class ReadThrough implements StampCache {
  constructor(
    private readonly source: StampSource,
    private readonly ahead?: ReadAhead,
  ) {}

  synced(): boolean {
    return this.ahead?.synced ?? unforeseen(this.source.synced(), 'whether the stamp cache has synced');
  }

  lookup(ns: string, kind: ConfigKind, name: string): ConfigLookup {
    return (ns === this.ahead?.namespace ? this.ahead.known.get(refKey({ kind, name })) : undefined) ?? unforeseen(this.source.lookup(ns, kind, name), `the stamps of ${kind} ${ns}/${name}`);
  }

  noteAdmitted(ns: string, kind: ConfigKind, name: string, stamps: ConfigStamps): void {
    this.source.noteAdmitted(ns, kind, name, stamps);
  }
}

/** The mutating handler's dependencies, read ahead: what mutate() reads of them, it finds here. */
export async function mutateInputs(req: AdmissionRequest, sources: MutateSources, progress: ReviewProgress): Promise<MutateDeps> {
  const group = req.resource.group;
  const stampsDeployment = group === 'apps' && req.resource.resource === 'deployments';
  const readsPolicy = stampsDeployment || (group === 'batch' && req.resource.resource === 'jobs');
  // The namespace the stamping functions ask the policy for.
  const namespace = metaNamespace(req.object) ?? req.namespace ?? '';
  const policy = readsPolicy ? await awaitStage(progress, 'policy', sources.policyFor(namespace)) : undefined;
  const snapshot = stampsDeployment ? await stampSnapshot(sources.cache, req, progress) : undefined;
  return {
    trustedUsers: sources.trustedUsers,
    ownNamespace: sources.ownNamespace,
    cache: snapshot?.cache ?? new ReadThrough(sources.cache),
    deployRefs: snapshot?.refs,
    // A method, not an arrow function: the bundle's keepNames would name an arrow written here,
    // an Object.defineProperty on every review.
    policyFor(ns) {
      return policy !== undefined && ns === namespace ? policy : unforeseen(sources.policyFor(ns), `the policy of namespace ${ns}`);
    },
  };
}

/** The policy objects, read ahead for a request about a policy object only. */
export async function policyObjectsInput(source: PolicyObjectsSource | undefined, needed: boolean, progress: ReviewProgress): Promise<PolicyObjectsView | undefined> {
  if (source === undefined || !needed) return undefined;
  const objects = await awaitStage(progress, 'policy-objects', source.objects());
  return {
    objects() {
      return objects;
    },
  };
}

