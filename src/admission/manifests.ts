import { POLICY_GROUP, POLICY_RESOURCES, POLICY_VERSION } from '../policy/policy-crds.js';
import { skippedNamespaces } from './skipped-namespaces.js';

// The MutatingWebhookConfiguration and ValidatingWebhookConfiguration for rollguard, as plain
// objects (the CLI prints them as YAML; the Helm chart reuses the same shape). F2: failurePolicy
// Ignore, no side effects, short timeouts, kube-system and rollguard's own namespace excluded.
// The validating configuration guards the blackout (R8) and checks the policy CRDs (R11).
// The webhook is reached through a Service in the cluster, or through a URL when it runs outside
// (tests, local development).
//
// timeoutSeconds: the webhook answers within its internal deadline (deadline.ts, 500 ms), so the
// mutating webhook gets 1 s: it intercepts every ConfigMap write, leader-election renewals included,
// and one timed-out call must stay well under the 2 s those renewals retry at (kubernetes#90217).
// The validating webhook never sees a ConfigMap, and a late answer there lets a rollback through a
// blackout, so it gets 3 s (Gatekeeper ships the same 1 s / 3 s pair).

export interface ManifestOptions {
  /** rollguard's namespace (excluded from admission), and the Service's. */
  namespace: string;
  /** The Service in front of `rollguard webhook`; exactly one of service and url. */
  service?: string;
  /** Base URL of a webhook outside the cluster (https://HOST:PORT); /mutate and /validate are appended. */
  url?: string;
  caBundle: string;
  port?: number;
  timeoutSeconds?: { mutating?: number; validating?: number };
  name?: string;
  /**
   * The cluster's Kubernetes version ("1.28", "v1.29.3"): from 1.28 the mutating webhook carries
   * matchConditions that leave leader-election ConfigMaps alone. Unset: none (every version accepts that).
   */
  kubeVersion?: string;
}

export const DEFAULT_TIMEOUT_SECONDS = { mutating: 1, validating: 3 } as const;

/** client-go's ConfigMap lock keeps its leader-election record in this annotation, from its first write. */
export const LEADER_ELECTION_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';

/**
 * The lock's annotation is exact; lock names are not (each controller picks its own, and a name
 * alone would also leave real configuration unstamped), so none are listed. Leases and Events are
 * never in the rules at all.
 */
export const MATCH_CONDITIONS: readonly { name: string; expression: string }[] = [
  {
    name: 'not-a-leader-election-lock',
    expression: `!(request.resource.group == "" && request.resource.resource == "configmaps" && object != null && has(object.metadata.annotations) && "${LEADER_ELECTION_ANNOTATION}" in object.metadata.annotations)`,
  },
];

/** matchConditions are beta and on by default from Kubernetes 1.28 (alpha, off, in 1.27). */
export function supportsMatchConditions(kubeVersion: string): boolean {
  const m = /^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?$/.exec(kubeVersion.trim());
  if (m === null) throw new Error(`--kube-version ${kubeVersion} is not a Kubernetes version; expected e.g. 1.28 or v1.29.3`);
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 1 || (major === 1 && minor >= 28);
}

type Target = { type: 'service'; name: string } | { type: 'url'; base: string };

interface RuleResource {
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  scope: 'Namespaced' | 'Cluster';
}

const RULE_RESOURCES: readonly RuleResource[] = [
  { apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'], scope: 'Namespaced' },
  { apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps', 'secrets'], scope: 'Namespaced' },
  { apiGroups: ['batch'], apiVersions: ['v1'], resources: ['jobs'], scope: 'Namespaced' },
];

// A namespaceSelector never skips cluster-scoped objects, so ClusterRollbackPolicy is always checked.
const POLICY_RULES: readonly RuleResource[] = POLICY_RESOURCES.map((r) => ({ apiGroups: [POLICY_GROUP], apiVersions: [POLICY_VERSION], resources: [r.plural], scope: r.scope }));

/** The base URL without a trailing slash; the apiserver only calls https URLs without query or fragment. */
function baseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`--url ${text} is not a URL; expected https://HOST:PORT`);
  }
  if (url.protocol !== 'https:') throw new Error(`--url ${text} must be https: the apiserver calls webhooks only over TLS`);
  if (url.search !== '' || url.hash !== '') throw new Error(`--url ${text} must not have a query or fragment: the apiserver rejects them`);
  if (url.username !== '' || url.password !== '') throw new Error(`--url ${text} must not carry a user name or password: the apiserver rejects them`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function target(opts: ManifestOptions): Target {
  if ((opts.service === undefined) === (opts.url === undefined)) {
    throw new Error('give exactly one of --url or --service: --service NAME for the Service in front of the webhook in the cluster, --url https://HOST:PORT for a webhook outside it');
  }
  return opts.url !== undefined ? { type: 'url', base: baseUrl(opts.url) } : { type: 'service', name: opts.service ?? '' };
}

function clientConfig(opts: ManifestOptions, to: Target, path: string): Record<string, unknown> {
  if (to.type === 'url') return { url: `${to.base}${path}`, caBundle: opts.caBundle };
  return { service: { namespace: opts.namespace, name: to.name, path, port: opts.port ?? 443 }, caBundle: opts.caBundle };
}

function namespaceSelector(ownNamespace: string): unknown {
  return { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: skippedNamespaces(ownNamespace) }] };
}

function webhook(opts: ManifestOptions, to: Target, path: string, webhookName: string, operations: string[], resources: readonly RuleResource[]): Record<string, unknown> {
  const type = path === '/mutate' ? 'mutating' : 'validating';
  return {
    name: webhookName,
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    failurePolicy: 'Ignore',
    matchPolicy: 'Equivalent',
    timeoutSeconds: opts.timeoutSeconds?.[type] ?? DEFAULT_TIMEOUT_SECONDS[type],
    namespaceSelector: namespaceSelector(opts.namespace),
    clientConfig: clientConfig(opts, to, path),
    // Fresh arrays per rule, so YAML output carries no anchors/aliases.
    rules: resources.map((r) => ({ apiGroups: [...r.apiGroups], apiVersions: [...r.apiVersions], resources: [...r.resources], operations: [...operations], scope: r.scope })),
  };
}

export function webhookConfigurations(opts: ManifestOptions): Record<string, unknown>[] {
  const to = target(opts);
  const name = opts.name ?? 'rollguard';
  const mutating = {
    ...webhook(opts, to, '/mutate', 'stamp.rollguard.io', ['CREATE', 'UPDATE'], RULE_RESOURCES),
    // Another webhook may rewrite annotations after rollguard; be called again to restore its keys.
    reinvocationPolicy: 'IfNeeded',
    ...(opts.kubeVersion !== undefined && supportsMatchConditions(opts.kubeVersion) ? { matchConditions: MATCH_CONDITIONS.map((c) => ({ ...c })) } : {}),
  };
  const blackout = webhook(opts, to, '/validate', 'blackout.rollguard.io', ['UPDATE'], RULE_RESOURCES.slice(0, 1));
  // R11: the policy CRDs, checked with the policy file's code; fails open like the rest (F2).
  const policies = webhook(opts, to, '/validate', 'policy.rollguard.io', ['CREATE', 'UPDATE'], POLICY_RULES);
  return [
    { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name, labels: { 'app.kubernetes.io/name': 'rollguard' } }, webhooks: [mutating] },
    { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name, labels: { 'app.kubernetes.io/name': 'rollguard' } }, webhooks: [blackout, policies] },
  ];
}
