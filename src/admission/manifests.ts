// The MutatingWebhookConfiguration and ValidatingWebhookConfiguration for rollguard, as plain
// objects (the CLI prints them as YAML; the Helm chart reuses the same shape). F2: failurePolicy
// Ignore, no side effects, short timeouts, kube-system and rollguard's own namespace excluded.

export interface ManifestOptions {
  namespace: string;
  service: string;
  caBundle: string;
  port?: number;
  timeoutSeconds?: number;
  name?: string;
}

const RULE_RESOURCES = [
  { apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'] },
  { apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps', 'secrets'] },
  { apiGroups: ['batch'], apiVersions: ['v1'], resources: ['jobs'] },
];

function namespaceSelector(ownNamespace: string): unknown {
  const excluded = [...new Set(['kube-system', ownNamespace])];
  return { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: excluded }] };
}

function webhook(opts: ManifestOptions, path: string, webhookName: string, operations: string[], resources: typeof RULE_RESOURCES): Record<string, unknown> {
  return {
    name: webhookName,
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    failurePolicy: 'Ignore',
    matchPolicy: 'Equivalent',
    timeoutSeconds: opts.timeoutSeconds ?? 5,
    namespaceSelector: namespaceSelector(opts.namespace),
    clientConfig: {
      service: { namespace: opts.namespace, name: opts.service, path, port: opts.port ?? 443 },
      caBundle: opts.caBundle,
    },
    // Fresh arrays per rule, so YAML output carries no anchors/aliases.
    rules: resources.map((r) => ({ apiGroups: [...r.apiGroups], apiVersions: [...r.apiVersions], resources: [...r.resources], operations: [...operations], scope: 'Namespaced' })),
  };
}

export function webhookConfigurations(opts: ManifestOptions): Record<string, unknown>[] {
  const name = opts.name ?? 'rollguard';
  const mutating = {
    ...webhook(opts, '/mutate', 'stamp.rollguard.io', ['CREATE', 'UPDATE'], RULE_RESOURCES),
    // Another webhook may rewrite annotations after rollguard; be called again to restore its keys.
    reinvocationPolicy: 'IfNeeded',
  };
  const validating = webhook(opts, '/validate', 'blackout.rollguard.io', ['UPDATE'], RULE_RESOURCES.slice(0, 1));
  return [
    { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name, labels: { 'app.kubernetes.io/name': 'rollguard' } }, webhooks: [mutating] },
    { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name, labels: { 'app.kubernetes.io/name': 'rollguard' } }, webhooks: [validating] },
  ];
}
