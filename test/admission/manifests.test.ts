import { describe, expect, it } from 'vitest';
import { webhookConfigurations } from '../../src/admission/manifests.js';
import { caBundleFrom } from '../../src/cli/manifests.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----\n';

type Webhook = {
  failurePolicy: string;
  sideEffects: string;
  admissionReviewVersions: string[];
  timeoutSeconds: number;
  reinvocationPolicy?: string;
  namespaceSelector: { matchExpressions: { key: string; operator: string; values: string[] }[] };
  clientConfig: { service: { namespace: string; name: string; path: string }; caBundle: string };
  rules: { apiGroups: string[]; resources: string[]; operations: string[] }[];
};

describe('F2 webhook configurations never hold the cluster hostage', () => {
  const [mutating, validating] = webhookConfigurations({ namespace: 'rollguard-system', service: 'rollguard-webhook', caBundle: 'Q0E=' }) as [
    { kind: string; webhooks: Webhook[] },
    { kind: string; webhooks: Webhook[] },
  ];

  it.each([
    ['mutating', () => mutating, '/mutate'],
    ['validating', () => validating, '/validate'],
  ] as const)('%s: Ignore, no side effects, v1, short timeout, system namespaces excluded', (_label, get, path) => {
    const hook = get().webhooks[0] as Webhook;
    expect(hook.failurePolicy).toBe('Ignore');
    expect(hook.sideEffects).toBe('None');
    expect(hook.admissionReviewVersions).toEqual(['v1']);
    expect(hook.timeoutSeconds).toBeLessThanOrEqual(10);
    expect(hook.namespaceSelector.matchExpressions).toEqual([{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'rollguard-system'] }]);
    expect(hook.clientConfig).toEqual({ service: { namespace: 'rollguard-system', name: 'rollguard-webhook', path, port: 443 }, caBundle: 'Q0E=' });
  });

  it('mutates deployments, configmaps, secrets and jobs on CREATE/UPDATE and is reinvoked if needed', () => {
    expect(mutating.kind).toBe('MutatingWebhookConfiguration');
    const hook = mutating.webhooks[0] as Webhook;
    expect(hook.reinvocationPolicy).toBe('IfNeeded');
    expect(hook.rules.flatMap((r) => r.resources).sort()).toEqual(['configmaps', 'deployments', 'jobs', 'secrets']);
    for (const rule of hook.rules) expect(rule.operations).toEqual(['CREATE', 'UPDATE']);
  });

  it('validates only Deployment updates (the blackout guard)', () => {
    expect(validating.kind).toBe('ValidatingWebhookConfiguration');
    expect((validating.webhooks[0] as Webhook).rules).toEqual([{ apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'], operations: ['UPDATE'], scope: 'Namespaced' }]);
  });

  it('takes the CA as PEM or as the base64 line `rollguard certs` prints, and explains anything else', () => {
    const b64 = Buffer.from(PEM).toString('base64');
    expect(caBundleFrom(PEM, 'ca.crt')).toBe(b64);
    expect(caBundleFrom(`${b64}\n`, 'ca.b64')).toBe(b64);
    expect(() => caBundleFrom('hello', 'x.txt')).toThrow(/neither a PEM certificate nor the base64/);
  });
});
