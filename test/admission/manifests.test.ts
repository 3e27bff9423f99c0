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
  clientConfig: { service?: { namespace: string; name: string; path: string }; url?: string; caBundle: string };
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

describe('F2 webhook configurations for a webhook outside the cluster (URL form)', () => {
  const hooks = (url: string): Webhook[] =>
    (webhookConfigurations({ namespace: 'rollguard', url, caBundle: 'Q0E=' }) as { webhooks: Webhook[] }[]).map((d) => d.webhooks[0] as Webhook);

  it.each([
    ['a base URL', 'https://127.0.0.1:9443'],
    ['a base URL with a trailing slash', 'https://127.0.0.1:9443/'],
  ])('%s: clientConfig.url ends in /mutate and /validate, no service', (_label, url) => {
    const [mutating, validating] = hooks(url) as [Webhook, Webhook];
    expect(mutating.clientConfig).toEqual({ url: 'https://127.0.0.1:9443/mutate', caBundle: 'Q0E=' });
    expect(validating.clientConfig).toEqual({ url: 'https://127.0.0.1:9443/validate', caBundle: 'Q0E=' });
    // Everything else is as for the Service form: still fail-open, still excluding system namespaces.
    expect(mutating.failurePolicy).toBe('Ignore');
    expect(mutating.namespaceSelector.matchExpressions[0]?.values).toEqual(['kube-system', 'rollguard']);
  });

  it('keeps a path prefix of the base URL', () => {
    expect(hooks('https://webhook.dev.example:8443/rollguard')[0]?.clientConfig.url).toBe('https://webhook.dev.example:8443/rollguard/mutate');
  });
});

describe('F5 webhook configurations reject an unusable target with a clear message', () => {
  it.each([
    ['neither --url nor --service', {}, /exactly one of --url or --service/],
    ['both --url and --service', { url: 'https://127.0.0.1:9443', service: 'rollguard-webhook' }, /exactly one of --url or --service/],
    ['a plain-HTTP URL', { url: 'http://127.0.0.1:9443' }, /must be https/],
    ['not a URL', { url: '127.0.0.1:9443' }, /not a URL/],
    ['a URL with a query', { url: 'https://127.0.0.1:9443/?x=1' }, /query or fragment/],
    ['a URL with user info', { url: 'https://u:p@127.0.0.1:9443' }, /user name or password/],
  ])('%s', (_label, target, message) => {
    expect(() => webhookConfigurations({ namespace: 'rollguard', caBundle: 'Q0E=', ...target })).toThrow(message);
  });
});
