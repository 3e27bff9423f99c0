import { describe, expect, it } from 'vitest';
import { LEADER_ELECTION_ANNOTATION, supportsMatchConditions, webhookConfigurations } from '../../src/admission/manifests.js';
import { caBundleFrom } from '../../src/cli/manifests.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----\n';

type Webhook = {
  failurePolicy: string;
  sideEffects: string;
  admissionReviewVersions: string[];
  timeoutSeconds: number;
  reinvocationPolicy?: string;
  matchConditions?: { name: string; expression: string }[];
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
    expect(hook.timeoutSeconds).toBeLessThanOrEqual(3);
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

describe('F2 never the cause of a cluster outage: short timeouts, no leader-election or bookkeeping writes', () => {
  const docs = (kubeVersion?: string): Webhook[] =>
    (webhookConfigurations({ namespace: 'rollguard', service: 'rollguard-webhook', caBundle: 'Q0E=', ...(kubeVersion === undefined ? {} : { kubeVersion }) }) as { webhooks: Webhook[] }[]).flatMap((d) => d.webhooks);

  it('the mutating webhook (every ConfigMap write) waits 1 s, under the 2 s leader-election retry; the validating ones 3 s', () => {
    const [stamp, blackout, policy] = docs() as [Webhook, Webhook, Webhook];
    expect([stamp.timeoutSeconds, blackout.timeoutSeconds, policy.timeoutSeconds]).toEqual([1, 3, 3]);
    const custom = webhookConfigurations({ namespace: 'rollguard', service: 's', caBundle: 'Q0E=', timeoutSeconds: { validating: 5 } }) as { webhooks: Webhook[] }[];
    expect(custom.flatMap((d) => d.webhooks).map((w) => w.timeoutSeconds)).toEqual([1, 5, 5]);
  });

  it.each([undefined, '1.20', '1.27.9', 'v1.28.0', '1.31.2-eks-a1b2'])('no rule ever matches Leases or Events (kube version %s)', (kubeVersion) => {
    for (const rule of docs(kubeVersion).flatMap((w) => w.rules)) {
      expect(rule.apiGroups).not.toEqual(expect.arrayContaining(['*']));
      expect(rule.apiGroups).not.toEqual(expect.arrayContaining(['coordination.k8s.io']));
      expect(rule.apiGroups).not.toEqual(expect.arrayContaining(['events.k8s.io']));
      expect(rule.resources).not.toEqual(expect.arrayContaining(['*']));
      expect(rule.resources.some((r) => r === 'leases' || r === 'events' || r.startsWith('*/'))).toBe(false);
    }
  });

  it.each([
    [undefined, false],
    ['1.20.15', false],
    ['v1.27.3', false],
    ['1.28', true],
    ['v1.28.0', true],
    ['1.30.2-gke.1', true],
    ['2.0.0', true],
  ])('kube version %s: matchConditions leaving leader-election ConfigMaps alone: %s', (kubeVersion, expected) => {
    const [stamp, ...validating] = docs(kubeVersion) as [Webhook, ...Webhook[]];
    if (expected) {
      expect(stamp.matchConditions).toHaveLength(1);
      const expression = stamp.matchConditions?.[0]?.expression ?? '';
      expect(expression).toContain(`"${LEADER_ELECTION_ANNOTATION}" in object.metadata.annotations`);
      expect(expression).toContain('request.resource.resource == "configmaps"');
      // Negated: the condition is what must hold for rollguard to be called.
      expect(expression.startsWith('!(')).toBe(true);
    } else {
      expect(stamp.matchConditions).toBeUndefined();
    }
    // The validating webhooks never see a ConfigMap.
    for (const w of validating) expect(w.matchConditions).toBeUndefined();
  });

  it('F5 an unreadable --kube-version is refused with what is expected', () => {
    expect(() => supportsMatchConditions('latest')).toThrow(/--kube-version latest is not a Kubernetes version; expected e.g. 1.28/);
  });
});
