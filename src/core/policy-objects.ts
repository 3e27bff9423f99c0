import { parseInstant } from './duration.js';

// The policy CRDs as the core reads them (R11): a ClusterRollbackPolicy (the cluster default; only
// the one named `default` takes effect) and RollbackPolicies (one per namespace takes effect). The
// spec is a policy document exactly as in the policy file; the status records what the agent
// accepted, including the last valid spec, so every replica and the webhook apply the same one.

export type PolicyKind = 'ClusterRollbackPolicy' | 'RollbackPolicy';

export const CLUSTER_DEFAULT_NAME = 'default';

export type AcceptedReason = 'Valid' | 'Invalid' | 'Conflicting' | 'NotDefault';

/** As read back from the apiserver, where anyone with status access could have added others. */
export interface PolicyCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration: number;
  lastTransitionTime: string;
}

export interface PolicyStatus {
  observedGeneration?: number;
  conditions?: PolicyCondition[];
  /** The generation whose spec applies (the current one, or the last valid one). */
  appliedGeneration?: number;
  appliedSpec?: unknown;
}

export interface PolicyObject {
  kind: PolicyKind;
  /** RollbackPolicy only. */
  namespace: string | undefined;
  name: string;
  generation: number;
  /** Epoch ms; undefined (not yet set) sorts as the newest. */
  createdAt: number | undefined;
  spec: unknown;
  status: PolicyStatus | undefined;
}

export interface PolicyRef {
  kind: PolicyKind;
  namespace: string | undefined;
  name: string;
}

export function refText(ref: PolicyRef): string {
  return ref.namespace === undefined ? `${ref.kind} ${ref.name}` : `${ref.kind} ${ref.namespace}/${ref.name}`;
}

export function objectKey(ref: PolicyRef): string {
  return `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function readStatus(value: unknown): PolicyStatus | undefined {
  const s = record(value);
  if (s === undefined) return undefined;
  const out: PolicyStatus = {};
  if (typeof s.observedGeneration === 'number') out.observedGeneration = s.observedGeneration;
  if (typeof s.appliedGeneration === 'number') out.appliedGeneration = s.appliedGeneration;
  if ('appliedSpec' in s) out.appliedSpec = s.appliedSpec;
  if (Array.isArray(s.conditions)) out.conditions = s.conditions as PolicyCondition[];
  return out;
}

/** Reads a ClusterRollbackPolicy or RollbackPolicy as the apiserver serves it. */
export function toPolicyObject(kind: PolicyKind, raw: unknown): PolicyObject {
  const obj = record(raw) ?? {};
  const meta = record(obj.metadata) ?? {};
  const namespace = kind === 'RollbackPolicy' && typeof meta.namespace === 'string' ? meta.namespace : undefined;
  return {
    kind,
    namespace,
    name: typeof meta.name === 'string' ? meta.name : '',
    generation: typeof meta.generation === 'number' ? meta.generation : 0,
    createdAt: parseInstant(typeof meta.creationTimestamp === 'string' ? meta.creationTimestamp : undefined),
    spec: obj.spec,
    status: readStatus(obj.status),
  };
}
