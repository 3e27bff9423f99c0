import type { Policy } from '../core/policy.js';
import type { DeployRefs } from '../core/template-refs.js';
import { reconcileOwnedKeys } from './owned-keys.js';
import { annotationPatch, readAnnotations } from './patch.js';
import type { Verdict } from './response.js';
import type { AdmissionRequest } from './review.js';
import type { StampCache } from '../stamps/stamp-cache.js';
import { stampConfig } from './stamp-config.js';
import { stampDeployment } from './stamp-deployment.js';
import { stampJob } from './stamp-job.js';
import { skipReason } from './skipped-namespaces.js';
import type { StampContext, Stamps } from './stamp-types.js';
import { admissionTarget, type TargetKind } from './target.js';

// The mutating webhook: stamp the change, keep rollguard's keys rollguard's, and answer with the
// JSON patch from the object as received to the stamped one.

export interface MutateDeps {
  cache: StampCache;
  policyFor: (namespace: string) => Policy;
  /** Users whose writes to rollguard-owned keys stand (the agent's service account). */
  trustedUsers: ReadonlySet<string>;
  /** rollguard's own namespace: never stamped, like kube-system (F2). */
  ownNamespace: string;
  /** The refs of a Deployment request's templates (oldObject's for an UPDATE, object's), when the inputs read them already. */
  deployRefs?: DeployRefs | undefined;
}

export interface MutateResult {
  verdict: Verdict;
  /** One line for the log: what was stamped, never object data. */
  summary: string;
}

function nameOf(object: Record<string, unknown>): string {
  const meta = object.metadata;
  const name = meta !== null && typeof meta === 'object' ? (meta as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? name : '';
}

function stampsFor(kind: TargetKind, req: AdmissionRequest, object: Record<string, unknown>, ctx: StampContext): Stamps {
  const old = req.operation === 'UPDATE' ? (req.oldObject ?? undefined) : undefined;
  switch (kind) {
    case 'Deployment':
      return stampDeployment(object, old, ctx);
    case 'ConfigMap':
    case 'Secret':
      return stampConfig(kind, object, old, req.name ?? nameOf(object), ctx);
    case 'Job':
      return stampJob(object, req.operation === 'CREATE', ctx);
  }
}

/** What a mutating review is about: the kind and object to stamp, or the answer when there is none. */
export type MutationSubject = { type: 'object'; kind: TargetKind; object: Record<string, unknown> } | { type: 'done'; result: MutateResult };

export function mutationSubject(req: AdmissionRequest, ownNamespace: string): MutationSubject {
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return { type: 'done', result: { verdict: { type: 'allow' }, summary: `${req.operation}: nothing to stamp` } };
  const skipped = skipReason(req.namespace, ownNamespace);
  if (skipped !== undefined) return { type: 'done', result: { verdict: { type: 'allow' }, summary: skipped } };
  const target = admissionTarget(req);
  if (target.type === 'skip') return { type: 'done', result: { verdict: { type: 'allow', ...(target.warning ? { warnings: [target.warning] } : {}) }, summary: target.why } };
  const object = req.object;
  if (object === null || object === undefined) {
    return { type: 'done', result: { verdict: { type: 'allow', warnings: [`rollguard: ${req.operation} without an object; not stamped`] }, summary: 'no object' } };
  }
  return { type: 'object', kind: target.kind, object };
}

export function isTrustedWriter(req: AdmissionRequest, trustedUsers: ReadonlySet<string>): boolean {
  const requester = req.userInfo?.username;
  return requester !== undefined && trustedUsers.has(requester);
}

export function mutate(req: AdmissionRequest, deps: MutateDeps, now: number): MutateResult {
  const subject = mutationSubject(req, deps.ownNamespace);
  if (subject.type === 'done') return subject.result;
  const { kind, object } = subject;
  const requested = readAnnotations(object);
  const old = readAnnotations(req.operation === 'UPDATE' ? req.oldObject : undefined);
  const trustedWriter = isTrustedWriter(req, deps.trustedUsers);
  const ctx: StampContext = { now, namespace: req.namespace ?? '', requested, old, cache: deps.cache, policyFor: deps.policyFor, requester: req.userInfo?.username, trustedWriter, dryRun: req.dryRun === true, deployRefs: deps.deployRefs };
  const stamped = stampsFor(kind, req, object, ctx);
  const { annotations, warnings } = reconcileOwnedKeys({ old, requested, stamps: stamped.stamps, trustedWriter, templateChanged: stamped.templateChanged });
  const ops = annotationPatch(object, annotations);
  return { verdict: { type: 'patch', ops, warnings }, summary: `${kind}: ${stamped.summary}; ${ops.length.toString()} patch ops` };
}
