import type { PolicyKind } from '../core/policy-objects.js';
import { policyDocumentSchema, type Schema } from './policy-schema.js';

// The two policy CRDs (R11), apiextensions.k8s.io/v1 as Kubernetes 1.20 serves it: printed by
// `rollguard manifests --crds`, committed under charts/rollguard/crds/ (a test keeps them equal).

export const POLICY_GROUP = 'rollguard.io';
export const POLICY_VERSION = 'v1alpha1';
export const POLICY_API_VERSION = `${POLICY_GROUP}/${POLICY_VERSION}`;

export interface PolicyResource {
  kind: PolicyKind;
  plural: string;
  singular: string;
  shortName: string;
  scope: 'Cluster' | 'Namespaced';
  description: string;
}

export const POLICY_RESOURCES: readonly PolicyResource[] = [
  {
    kind: 'ClusterRollbackPolicy',
    plural: 'clusterrollbackpolicies',
    singular: 'clusterrollbackpolicy',
    shortName: 'crbp',
    scope: 'Cluster',
    description: 'The cluster default rollguard policy (R11). Only the one named "default" takes effect.',
  },
  {
    kind: 'RollbackPolicy',
    plural: 'rollbackpolicies',
    singular: 'rollbackpolicy',
    shortName: 'rbp',
    scope: 'Namespaced',
    description: "A namespace's rollguard policy, over the cluster default field by field (R11). One per namespace takes effect: the oldest.",
  },
];

export function policyResource(kind: PolicyKind): PolicyResource {
  const r = POLICY_RESOURCES.find((x) => x.kind === kind);
  if (r === undefined) throw new Error(`unknown policy kind ${kind}`);
  return r;
}

const BASE = `/apis/${POLICY_API_VERSION}`;

export const policyPaths = {
  discovery: BASE,
  /** Every object of the kind, cluster-wide. */
  collection: (kind: PolicyKind): string => `${BASE}/${policyResource(kind).plural}`,
  namespaced: (namespace: string): string => `${BASE}/namespaces/${encodeURIComponent(namespace)}/rollbackpolicies`,
  status: (kind: PolicyKind, namespace: string | undefined, name: string): string =>
    kind === 'ClusterRollbackPolicy'
      ? `${BASE}/clusterrollbackpolicies/${encodeURIComponent(name)}/status`
      : `${BASE}/namespaces/${encodeURIComponent(namespace ?? '')}/rollbackpolicies/${encodeURIComponent(name)}/status`,
};

const conditionSchema: Schema = {
  type: 'object',
  required: ['type', 'status'],
  properties: {
    type: { type: 'string', description: 'Accepted.' },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    reason: { type: 'string', description: 'Valid, Invalid, Conflicting (another RollbackPolicy of the namespace is older) or NotDefault.' },
    message: { type: 'string' },
    observedGeneration: { type: 'integer', format: 'int64' },
    lastTransitionTime: { type: 'string', format: 'date-time' },
  },
};

const statusSchema: Schema = {
  type: 'object',
  description: "Written by rollguard's agent: whether the spec is accepted, and which generation applies.",
  properties: {
    observedGeneration: { type: 'integer', format: 'int64', description: 'The generation the conditions describe.' },
    conditions: { type: 'array', items: conditionSchema, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
    appliedGeneration: { type: 'integer', format: 'int64', description: 'The generation whose spec applies: the current one, or the last valid one when the current spec is invalid.' },
    appliedSpec: policyDocumentSchema('The spec that applies (of appliedGeneration).'),
  },
};

const ACCEPTED = '.status.conditions[?(@.type=="Accepted")]';

export function policyCrd(r: PolicyResource): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${r.plural}.${POLICY_GROUP}`, labels: { 'app.kubernetes.io/name': 'rollguard' } },
    spec: {
      group: POLICY_GROUP,
      scope: r.scope,
      names: { kind: r.kind, listKind: `${r.kind}List`, plural: r.plural, singular: r.singular, shortNames: [r.shortName], categories: ['rollguard'] },
      versions: [
        {
          name: POLICY_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Mode', type: 'string', jsonPath: '.spec.mode', description: 'The mode this policy sets (empty: inherited).' },
            { name: 'Accepted', type: 'string', jsonPath: `${ACCEPTED}.status` },
            { name: 'Reason', type: 'string', jsonPath: `${ACCEPTED}.reason` },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: r.description,
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: policyDocumentSchema('The policy: the same document as one entry of the policy file (every field optional).'),
                status: statusSchema,
              },
            },
          },
        },
      ],
    },
  };
}

export function policyCrds(): Record<string, unknown>[] {
  return POLICY_RESOURCES.map(policyCrd);
}
