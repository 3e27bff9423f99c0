import { POLICY_GROUP, POLICY_RESOURCES, POLICY_VERSION } from './policy-crds.js';
import { skippedNamespaces } from './skipped-namespaces.js';

// The MutatingWebhookConfiguration and ValidatingWebhookConfiguration for rollguard, as plain
// objects (the CLI prints them as YAML; the Helm chart reuses the same shape). F2: failurePolicy
// Ignore, no side effects, short timeouts, kube-system and rollguard's own namespace excluded.
// The validating configuration guards the blackout (R8) and checks the policy CRDs (R11).
// The webhook is reached through a Service in the cluster, or through a URL when it runs outside
// (tests, local development).

export interface ManifestOptions {
  /** rollguard's namespace (excluded from admission), and the Service's. */
  namespace: string;
  /** The Service in front of `rollguard webhook`; exactly one of service and url. */
  service?: string;
  /** Base URL of a webhook outside the cluster (https://HOST:PORT); /mutate and /validate are appended. */
  url?: string;
  caBundle: string;
  port?: number;
  timeoutSeconds?: number;
  name?: string;
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
  return {
    name: webhookName,
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    failurePolicy: 'Ignore',
    matchPolicy: 'Equivalent',
    timeoutSeconds: opts.timeoutSeconds ?? 5,
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
  };
  const blackout = webhook(opts, to, '/validate', 'blackout.rollguard.io', ['UPDATE'], RULE_RESOURCES.slice(0, 1));
  // R11: the policy CRDs, checked with the policy file's code; fails open like the rest (F2).
  const policies = webhook(opts, to, '/validate', 'policy.rollguard.io', ['CREATE', 'UPDATE'], POLICY_RULES);
  return [
    { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name, labels: { 'app.kubernetes.io/name': 'rollguard' } }, webhooks: [mutating] },
    { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name, labels: { 'app.kubernetes.io/name': 'rollguard' } }, webhooks: [blackout, policies] },
  ];
}
