import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { webhookConfigurations } from '../../src/admission/manifests.js';
import { createMetrics } from '../../src/admission/metrics.js';
import { createAgentMetrics } from '../../src/agent/metrics.js';
import { AGENT_APPLY_RULES, AGENT_CLUSTER_RULES, AGENT_DECISION_RULES, AGENT_LEASE_RULES, AGENT_OWN_SECRET_RULES } from '../../src/agent/rbac.js';
import { describeWithControlPlane } from '../support/control-plane.js';
import { REPO_ROOT } from '../support/control-plane-launch.js';
import { CHART_DIR, createHelm, findObject, HelmError, unpackedHelmBinary, type Helm, type KubeObject } from './helm.js';
import { parseDeadline } from '../../src/cli/webhook-options.js';

// The chart as helm 3.5.4 renders it, with the value sets an admin would use: the objects are
// checked against rollguard's own sources of truth (webhookConfigurations, the agent's RBAC
// rules, its metric names), so the chart and the code cannot drift apart.

const runFile = promisify(execFile);

const RELEASE = 'rg';
const NS = 'ops';
const FULLNAME = 'rg-rollguard';
const BASE = { agent: { prometheus: { url: 'http://prometheus.monitoring.svc:9090' } } };
const DUMMY_CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----\n').toString('base64');

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
type Probe = { httpGet: { path: string; port: string } };
type Container = {
  name: string;
  image: string;
  args: string[];
  securityContext: Record<string, unknown>;
  readinessProbe: Probe;
  livenessProbe: Probe;
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
  ports: { name: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
};
type Volume = { name: string; secret?: { secretName: string; items?: { key: string }[] }; projected?: { sources: Record<string, unknown>[] }; emptyDir?: unknown; configMap?: { name: string } };
type PodSpec = {
  serviceAccountName: string;
  automountServiceAccountToken: boolean;
  securityContext: Record<string, unknown>;
  affinity: { podAntiAffinity?: { preferredDuringSchedulingIgnoredDuringExecution?: unknown[]; requiredDuringSchedulingIgnoredDuringExecution?: unknown[] } };
  containers: Container[];
  volumes: Volume[];
};
type Webhook = { name: string; clientConfig: { service?: { name: string; namespace: string; path: string; port: number }; url?: string; caBundle?: string }; namespaceSelector: { matchExpressions: { key: string; operator: string; values?: string[] }[]; matchLabels?: Record<string, string> } } & Record<string, unknown>;

const stripWhy = <T extends { why: string }>(rules: readonly T[]): Omit<T, 'why'>[] => rules.map(({ why: _why, ...rule }) => rule);

function merge(...parts: object[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of parts) {
    for (const [k, v] of Object.entries(p)) {
      const prev = out[k];
      out[k] = typeof v === 'object' && v !== null && !Array.isArray(v) && typeof prev === 'object' && prev !== null && !Array.isArray(prev) ? merge(prev, v as object) : v;
    }
  }
  return out;
}

const podSpec = (objects: readonly KubeObject[]): PodSpec => (findObject(objects, 'Deployment', FULLNAME).spec as { template: { spec: PodSpec } }).template.spec;
const container = (objects: readonly KubeObject[], name: string): Container => {
  const c = podSpec(objects).containers.find((x) => x.name === name);
  if (c === undefined) throw new Error(`no container ${name}`);
  return c;
};
const webhooksOf = (o: KubeObject): Webhook[] => o.webhooks as Webhook[];
const rulesOf = (o: KubeObject): Rule[] => o.rules as Rule[];
/** The value after `flag` in a container's args. */
const argValue = (args: readonly string[], flag: string): string | undefined => {
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
};

/**
 * helm template --kube-version exists from helm 3.6; the helm of ../shared/k8s is 3.5.4, whose
 * .Capabilities.KubeVersion is fixed at 1.20 without a cluster, so the chart's kubeVersion value
 * stands in for it there.
 */
let hasKubeVersionFlag = false;
const kubeVersionArgs = (version: string): string[] => (hasKubeVersionFlag ? ['--kube-version', version] : ['--set', `kubeVersion=${version}`]);

let helm: Helm;
let defaults: KubeObject[];
let workDir: string;

describeWithControlPlane(
  'the Helm chart, rendered (helm 3.5.4)',
  () => {
    beforeAll(async () => {
      helm = await createHelm(await unpackedHelmBinary());
      hasKubeVersionFlag = (await helm.run(['template', '--help'])).stdout.includes('--kube-version');
      workDir = await mkdtemp(join(tmpdir(), 'rollguard-chart-'));
      defaults = await helm.template(BASE, { release: RELEASE, namespace: NS });
    }, 180_000);

    afterAll(async () => {
      await helm.cleanup();
      await rm(workDir, { recursive: true, force: true });
    });

    it.each([
      ['defaults', BASE],
      ['cert-manager', merge(BASE, { certs: { mode: 'cert-manager' } })],
      ['cert-manager with a ClusterIssuer', merge(BASE, { certs: { mode: 'cert-manager', certManager: { issuerRef: { name: 'company-ca', kind: 'ClusterIssuer' } } } })],
      ['an existing Secret', merge(BASE, { certs: { mode: 'existingSecret', existingSecret: { name: 'my-tls', caBundle: DUMMY_CA } } })],
      ['the apply button on', merge(BASE, { applyButton: { enabled: true } })],
      ['every optional object on', merge(BASE, { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true }, networkPolicy: { enabled: true }, grafanaDashboard: { enabled: true } })],
    ])('F2 helm lint --strict passes with %s', async (_label, values) => {
      const file = await helm.valuesFile(values);
      const { stdout } = await helm.run(['lint', '--strict', CHART_DIR, '--namespace', NS, '-f', file]);
      expect(stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    });

    it('F2 the webhook configurations are exactly what `rollguard manifests` generates: fail open, 1 s / 3 s, kube-system and the release namespace excluded', () => {
      const mutating = findObject(defaults, 'MutatingWebhookConfiguration', FULLNAME);
      const validating = findObject(defaults, 'ValidatingWebhookConfiguration', FULLNAME);
      const caBundle = webhooksOf(mutating)[0]?.clientConfig.caBundle ?? '';
      expect(caBundle).not.toBe('');
      const [expectedMutating, expectedValidating] = webhookConfigurations({ namespace: NS, service: `${FULLNAME}-webhook`, caBundle, name: FULLNAME }) as { webhooks: unknown[] }[];
      expect(webhooksOf(mutating)).toEqual(expectedMutating?.webhooks);
      expect(webhooksOf(validating)).toEqual(expectedValidating?.webhooks);
      for (const w of [...webhooksOf(mutating), ...webhooksOf(validating)]) {
        expect(w).toMatchObject({ failurePolicy: 'Ignore', sideEffects: 'None', admissionReviewVersions: ['v1'] });
        expect(w.timeoutSeconds as number).toBeLessThanOrEqual(3);
        expect(w.namespaceSelector.matchExpressions).toEqual([{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', NS] }]);
        expect(w.clientConfig.service).toMatchObject({ name: `${FULLNAME}-webhook`, namespace: NS, port: 443 });
      }
      expect(webhooksOf(mutating)[0]?.reinvocationPolicy).toBe('IfNeeded');
      expect(webhooksOf(mutating)[0]?.timeoutSeconds).toBe(1);
      const template = readFileSync(join(CHART_DIR, 'templates', 'admission.yaml'), 'utf8');
      expect(template).toMatch(/# Another mutating webhook may rewrite annotations[^\n]*\n[^\n]*\n\s*reinvocationPolicy: IfNeeded/);
    });

    it.each([
      [undefined, 500],
      ['250ms', 250],
      ['1.5s', 1500],
    ] as const)('F2 webhook.deadline %s reaches the webhook as --deadline, a value its parser takes (%i ms)', async (deadline, ms) => {
      const objects = deadline === undefined ? defaults : await helm.template(merge(BASE, { webhook: { deadline } }), { release: RELEASE, namespace: NS });
      const value = argValue(container(objects, 'webhook').args, '--deadline');
      expect(value).toBeDefined();
      expect(parseDeadline(value ?? '')).toBe(ms);
    });

    it.each([
      ['1.27.0', false],
      ['1.28.0', true],
      ['v1.30.2-eks-1', true],
    ])('F2 kube version %s: the mutating webhook leaves leader-election ConfigMaps alone by matchConditions: %s; same as `rollguard manifests --kube-version`', async (kubeVersion, expected) => {
      const objects = await helm.template(BASE, { release: RELEASE, namespace: NS, extraArgs: kubeVersionArgs(kubeVersion) });
      const mutating = findObject(objects, 'MutatingWebhookConfiguration', FULLNAME);
      const validating = findObject(objects, 'ValidatingWebhookConfiguration', FULLNAME);
      const caBundle = webhooksOf(mutating)[0]?.clientConfig.caBundle ?? '';
      const [expectedMutating, expectedValidating] = webhookConfigurations({ namespace: NS, service: `${FULLNAME}-webhook`, caBundle, name: FULLNAME, kubeVersion }) as { webhooks: unknown[] }[];
      expect(webhooksOf(mutating)).toEqual(expectedMutating?.webhooks);
      expect(webhooksOf(validating)).toEqual(expectedValidating?.webhooks);
      expect(webhooksOf(mutating)[0]?.matchConditions !== undefined).toBe(expected);
      for (const w of webhooksOf(validating)) expect(w.matchConditions).toBeUndefined();
    });

    it('F2 on the control plane this chart installs on (1.20, helm 3.5.4 with no cluster renders for 1.20) there are no matchConditions, which it would reject', () => {
      expect(webhooksOf(findObject(defaults, 'MutatingWebhookConfiguration', FULLNAME))[0]?.matchConditions).toBeUndefined();
    });

    it('F2 the rendered webhooks never intercept Leases or Events, in either form', async () => {
      const newer = await helm.template(BASE, { release: RELEASE, namespace: NS, extraArgs: kubeVersionArgs('1.28.0') });
      for (const objects of [defaults, newer]) {
        for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
          for (const rule of webhooksOf(findObject(objects, kind, FULLNAME)).flatMap((w) => w.rules as { apiGroups: string[]; resources: string[] }[])) {
            expect(rule.apiGroups.filter((g) => g === '*' || g === 'coordination.k8s.io' || g === 'events.k8s.io')).toEqual([]);
            expect(rule.resources.filter((r) => r === '*' || r.startsWith('*/') || r === 'leases' || r === 'events')).toEqual([]);
          }
        }
      }
    });

    it('F2 more namespaces can be left out; the kube-system and release-namespace exclusion stays; a release in kube-system is excluded once', async () => {
      const extra = { key: 'team', operator: 'NotIn', values: ['sandbox'] };
      const objects = await helm.template(merge(BASE, { webhook: { namespaceSelector: { matchExpressions: [extra], matchLabels: { 'rollguard.io/enabled': 'true' } } } }), { release: RELEASE, namespace: NS });
      for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
        expect(webhooksOf(findObject(objects, kind))[0]?.namespaceSelector).toEqual({
          matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', NS] }, extra],
          matchLabels: { 'rollguard.io/enabled': 'true' },
        });
      }
      const inSystem = await helm.template(BASE, { release: RELEASE, namespace: 'kube-system' });
      expect(webhooksOf(findObject(inSystem, 'MutatingWebhookConfiguration'))[0]?.namespaceSelector.matchExpressions[0]?.values).toEqual(['kube-system']);
    });

    it("F2 certs.mode generate: the caBundle is the CA that signed the serving certificate, which names the webhook Service as the apiserver dials it", () => {
      const secret = findObject(defaults, 'Secret', `${FULLNAME}-webhook-tls`);
      const data = secret.data as Record<string, string>;
      const pem = (k: string) => Buffer.from(data[k] ?? '', 'base64').toString('utf8');
      const ca = new X509Certificate(pem('ca.crt'));
      const leaf = new X509Certificate(pem('tls.crt'));
      expect(ca.ca).toBe(true);
      expect(leaf.checkIssued(ca)).toBe(true);
      expect(leaf.verify(ca.publicKey)).toBe(true);
      expect(leaf.checkPrivateKey(createPrivateKey(pem('tls.key')))).toBe(true);
      // ECDSA P-256: a handshake's signature costs microseconds, RSA-2048's about a millisecond.
      for (const cert of [ca, leaf]) expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
      for (const name of [`${FULLNAME}-webhook.${NS}.svc`, `${FULLNAME}-webhook.${NS}.svc.cluster.local`]) expect(leaf.subjectAltName).toContain(`DNS:${name}`);
      expect(webhooksOf(findObject(defaults, 'MutatingWebhookConfiguration'))[0]?.clientConfig.caBundle).toBe(data['ca.crt']);
      expect(webhooksOf(findObject(defaults, 'ValidatingWebhookConfiguration'))[0]?.clientConfig.caBundle).toBe(data['ca.crt']);
      // The Pod gets the serving pair only, never the CA key.
      const tls = podSpec(defaults).volumes.find((v) => v.name === 'tls');
      expect(tls?.secret?.secretName).toBe(secret.metadata.name);
      expect(tls?.secret?.items?.map((i) => i.key)).toEqual(['tls.crt', 'tls.key']);
    });

    it('F2 certs.extraIpAddresses and extraDnsNames are added to the serving certificate', async () => {
      const objects = await helm.template(merge(BASE, { certs: { extraIpAddresses: ['127.0.0.1'], extraDnsNames: ['rollguard.example.test'] } }), { release: RELEASE, namespace: NS });
      const data = findObject(objects, 'Secret', `${FULLNAME}-webhook-tls`).data as Record<string, string>;
      const leaf = new X509Certificate(Buffer.from(data['tls.crt'] ?? '', 'base64'));
      expect(leaf.subjectAltName).toContain('IP Address:127.0.0.1');
      expect(leaf.subjectAltName).toContain('DNS:rollguard.example.test');
    });

    it('F2 certs.mode cert-manager: a CA Issuer and a Certificate for the Service names, the CA injected, no chart-made key', async () => {
      const objects = await helm.template(merge(BASE, { certs: { mode: 'cert-manager', extraIpAddresses: ['10.0.0.9'] } }), { release: RELEASE, namespace: NS });
      expect(objects.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name)).toEqual([`${FULLNAME}-webhook-token`]);
      const cert = findObject(objects, 'Certificate', `${FULLNAME}-webhook`);
      const spec = cert.spec as { secretName: string; dnsNames: string[]; ipAddresses: string[]; issuerRef: { name: string; kind: string } };
      expect(spec.secretName).toBe(`${FULLNAME}-webhook-tls`);
      expect(spec.dnsNames).toContain(`${FULLNAME}-webhook.${NS}.svc`);
      expect(spec.ipAddresses).toEqual(['10.0.0.9']);
      expect(spec.issuerRef).toMatchObject({ name: `${FULLNAME}-ca`, kind: 'Issuer' });
      expect((cert.spec as { privateKey: unknown }).privateKey).toEqual({ rotationPolicy: 'Always', algorithm: 'ECDSA', size: 256 });
      expect((findObject(objects, 'Certificate', `${FULLNAME}-ca`).spec as { isCA: boolean }).isCA).toBe(true);
      expect(findObject(objects, 'Issuer', `${FULLNAME}-ca`).spec).toEqual({ ca: { secretName: `${FULLNAME}-ca` } });
      for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
        const o = findObject(objects, kind);
        expect(o.metadata.annotations?.['cert-manager.io/inject-ca-from']).toBe(`${NS}/${FULLNAME}-webhook`);
        expect(webhooksOf(o)[0]?.clientConfig.caBundle).toBeUndefined();
      }
      expect(podSpec(objects).volumes.find((v) => v.name === 'tls')?.secret?.secretName).toBe(`${FULLNAME}-webhook-tls`);

      const external = await helm.template(merge(BASE, { certs: { mode: 'cert-manager', certManager: { issuerRef: { name: 'company-ca', kind: 'ClusterIssuer' } } } }), { release: RELEASE, namespace: NS });
      expect(external.filter((o) => o.kind === 'Issuer' || o.kind === 'Certificate').map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([`Certificate/${FULLNAME}-webhook`]);
      expect((findObject(external, 'Certificate').spec as { issuerRef: unknown }).issuerRef).toEqual({ name: 'company-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' });
    });

    it("F2 certs.mode existingSecret: the admin's Secret is served and its CA is the caBundle; without a CA the install says what is missing", async () => {
      const objects = await helm.template(merge(BASE, { certs: { mode: 'existingSecret', existingSecret: { name: 'my-tls', caBundle: DUMMY_CA } } }), { release: RELEASE, namespace: NS });
      expect(objects.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name)).toEqual([`${FULLNAME}-webhook-token`]);
      expect(objects.some((o) => o.kind === 'Certificate')).toBe(false);
      expect(podSpec(objects).volumes.find((v) => v.name === 'tls')?.secret?.secretName).toBe('my-tls');
      expect(webhooksOf(findObject(objects, 'MutatingWebhookConfiguration'))[0]?.clientConfig.caBundle).toBe(DUMMY_CA);
      await expect(helm.template(merge(BASE, { certs: { mode: 'existingSecret', existingSecret: { name: 'my-tls' } } }), { release: RELEASE, namespace: NS })).rejects.toThrow(
        /certs\.existingSecret: set certs\.existingSecret\.caBundle .*or give Secret ops\/my-tls a ca\.crt key/,
      );
      await expect(helm.template(merge(BASE, { certs: { mode: 'existingSecret' } }), { release: RELEASE, namespace: NS })).rejects.toThrow(/certs\.existingSecret\.name is required/);
    });

    it("R7 the agent's RBAC is src/agent/rbac.ts's, rule for rule, each with its why as the comment above it; no impersonation while the apply button is off", async () => {
      const agentSa = `${FULLNAME}-agent`;
      const clusterRole = findObject(defaults, 'ClusterRole', `${FULLNAME}-agent`);
      expect(rulesOf(clusterRole)).toEqual(stripWhy(AGENT_CLUSTER_RULES));
      const role = findObject(defaults, 'Role', `${FULLNAME}-agent`);
      expect(role.metadata.namespace).toBe(NS);
      expect(rulesOf(role)).toEqual([...stripWhy(AGENT_LEASE_RULES), ...stripWhy(AGENT_OWN_SECRET_RULES), ...stripWhy(AGENT_DECISION_RULES)]);
      for (const kind of ['ClusterRoleBinding', 'RoleBinding']) {
        const binding = findObject(defaults, kind, `${FULLNAME}-agent`);
        expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: kind.replace('Binding', ''), name: `${FULLNAME}-agent` });
        expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: agentSa, namespace: NS }]);
      }
      const everyRule = defaults.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role').flatMap(rulesOf);
      expect(everyRule.flatMap((r) => r.verbs)).not.toContain('impersonate');
      expect(everyRule.flatMap((r) => r.resources)).not.toContain('tokenreviews');
      expect(defaults.some((o) => o.metadata.name === `${FULLNAME}-agent-apply`)).toBe(false);

      const on = await helm.template(merge(BASE, { applyButton: { enabled: true } }), { release: RELEASE, namespace: NS });
      expect(rulesOf(findObject(on, 'ClusterRole', `${FULLNAME}-agent-apply`))).toEqual(stripWhy(AGENT_APPLY_RULES));
      expect(findObject(on, 'ClusterRoleBinding', `${FULLNAME}-agent-apply`).subjects).toEqual([{ kind: 'ServiceAccount', name: agentSa, namespace: NS }]);

      const source = readFileSync(join(CHART_DIR, 'templates', 'rbac-agent.yaml'), 'utf8');
      for (const r of [...AGENT_CLUSTER_RULES, ...AGENT_LEASE_RULES, ...AGENT_OWN_SECRET_RULES, ...AGENT_DECISION_RULES, ...AGENT_APPLY_RULES]) {
        expect(source, `rbac-agent.yaml lacks the comment for ${r.resources.join(',')} ${r.verbs.join(',')}`).toMatch(new RegExp(`# ${escapeRegExp(r.why)}\\n\\s*- apiGroups: \\[${escapeRegExp(r.apiGroups.map((g) => (g === '' ? '""' : g)).join(', '))}\\]\\n\\s*resources: \\[${escapeRegExp(r.resources.join(', '))}\\]\\n\\s*verbs: \\[${escapeRegExp(r.verbs.join(', '))}\\]`));
      }
    });

    it("F3 the webhook runs as its own ServiceAccount that may only list and watch ConfigMaps and Secrets, and trusts the agent's", () => {
      const webhookSa = `${FULLNAME}-webhook`;
      expect(rulesOf(findObject(defaults, 'ClusterRole', webhookSa))).toEqual([{ apiGroups: [''], resources: ['configmaps', 'secrets'], verbs: ['list', 'watch'] }]);
      expect(findObject(defaults, 'ClusterRoleBinding', webhookSa).subjects).toEqual([{ kind: 'ServiceAccount', name: webhookSa, namespace: NS }]);
      const token = findObject(defaults, 'Secret', `${FULLNAME}-webhook-token`);
      expect(token.type).toBe('kubernetes.io/service-account-token');
      expect(token.metadata.annotations?.['kubernetes.io/service-account.name']).toBe(webhookSa);

      const pod = podSpec(defaults);
      expect(pod.serviceAccountName).toBe(`${FULLNAME}-agent`);
      expect(pod.automountServiceAccountToken).toBe(false);
      const saMount = (c: Container) => c.volumeMounts.find((m) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount')?.name;
      const webhook = container(defaults, 'webhook');
      const agent = container(defaults, 'agent');
      expect(pod.volumes.find((v) => v.name === saMount(webhook))?.secret?.secretName).toBe(token.metadata.name);
      const projected = pod.volumes.find((v) => v.name === saMount(agent))?.projected?.sources ?? [];
      expect(projected.some((s) => 'serviceAccountToken' in s)).toBe(true);
      // The agent's rollback record stands only when the webhook knows the agent's identity (R12).
      expect(argValue(webhook.args, '--namespace')).toBe(NS);
      expect(argValue(webhook.args, '--agent-service-account')).toBe(pod.serviceAccountName);
      expect(argValue(agent.args, '--namespace')).toBe(NS);
      expect(webhook.args.slice(0, 1)).toEqual(['webhook']);
      expect(agent.args.slice(0, 1)).toEqual(['agent']);
    });

    it('R10 the agent knows its Pod IP: the leader advertises it in the Lease, where the standbys forward Alertmanager notifications', () => {
      const agent = container(defaults, 'agent');
      expect(agent.env?.find((e) => e.name === 'POD_IP')?.valueFrom?.fieldRef?.fieldPath).toBe('status.podIP');
      // The default --advertise-url is built from it: the flag is not set.
      expect(agent.args).not.toContain('--advertise-url');
    });

    it('F2 both containers listen on every interface, where the kubelet probes and the Services reach the pod IP: the in-Pod default of --host, so the chart sets none', () => {
      for (const name of ['webhook', 'agent']) expect(container(defaults, name).args).not.toContain('--host');
      // Every Pod has it, which is how --host tells a Pod from a local run.
      expect(container(defaults, 'agent').env?.some((e) => e.name === 'KUBERNETES_SERVICE_HOST')).toBe(false);
    });

    it('F2 V8 is sized to each container: a small young generation, the old one at three quarters of the memory limit', async () => {
      const nodeOptions = (objects: KubeObject[], name: string) => container(objects, name).env?.find((e) => e.name === 'NODE_OPTIONS')?.value;
      for (const name of ['webhook', 'agent']) {
        const limit = container(defaults, name).resources.limits?.memory ?? '';
        expect(limit).toMatch(/^\d+Mi$/);
        expect(nodeOptions(defaults, name)).toBe(`--max-semi-space-size=2 --max-old-space-size=${String((Number.parseInt(limit, 10) * 3) / 4)}`);
      }
      const gi = await helm.template(merge(BASE, { agent: { resources: { limits: { memory: '2Gi' } } } }), { release: RELEASE, namespace: NS });
      expect(nodeOptions(gi, 'agent')).toBe('--max-semi-space-size=2 --max-old-space-size=1536');
      // No limit (or one in another unit): V8 keeps its own old-generation default.
      const none = await helm.template(merge(BASE, { agent: { resources: { limits: null } } }), { release: RELEASE, namespace: NS });
      expect(nodeOptions(none, 'agent')).toBe('--max-semi-space-size=2');
    });

    it('F2 one Deployment, two replicas, two containers, restricted: non-root uid 10001, read-only root, no escalation, no capabilities, seccomp RuntimeDefault; probes, resources, spread', async () => {
      const deployment = findObject(defaults, 'Deployment');
      expect((deployment.spec as { replicas: number }).replicas).toBe(2);
      const pod = podSpec(defaults);
      expect(pod.containers.map((c) => c.name)).toEqual(['webhook', 'agent']);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
      const appVersion = (parseYaml(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { appVersion: string }).appVersion;
      const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
      expect(appVersion).toBe(pkg.version);
      for (const c of pod.containers) {
        expect(c.image).toBe(`rollguard:${appVersion}`);
        expect(c.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          runAsUser: 10001,
          runAsGroup: 10001,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(c.readinessProbe.httpGet.path).toBe('/readyz');
        expect(c.livenessProbe.httpGet.path).toBe('/healthz');
        expect(c.resources.requests).toHaveProperty('cpu');
        expect(c.resources.requests).toHaveProperty('memory');
        expect(c.resources.limits).toHaveProperty('memory');
        expect(c.volumeMounts.find((m) => m.mountPath === '/tmp')?.name).toBe('tmp');
        for (const m of c.volumeMounts.filter((x) => x.mountPath !== '/tmp')) expect(m.readOnly, m.mountPath).toBe(true);
      }
      // The probes reach plain-HTTP ports: the webhook's --health-port, the agent's --port.
      const webhook = container(defaults, 'webhook');
      const agent = container(defaults, 'agent');
      expect(webhook.ports.find((p) => p.name === webhook.readinessProbe.httpGet.port)?.containerPort).toBe(Number(argValue(webhook.args, '--health-port')));
      expect(agent.ports.find((p) => p.name === agent.readinessProbe.httpGet.port)?.containerPort).toBe(Number(argValue(agent.args, '--port')));
      expect(pod.volumes.find((v) => v.name === 'tmp')?.emptyDir).toBeDefined();
      const preferred = pod.affinity.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
      expect(preferred).toHaveLength(1);
      expect(pod.affinity.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toBeUndefined();

      const pdb = findObject(defaults, 'PodDisruptionBudget');
      expect(pdb.apiVersion).toBe('policy/v1beta1');
      expect(pdb.spec).toMatchObject({ maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/instance': RELEASE } } });
      const newer = await helm.template(BASE, { release: RELEASE, namespace: NS, extraArgs: ['--api-versions', 'policy/v1/PodDisruptionBudget'] });
      expect(findObject(newer, 'PodDisruptionBudget').apiVersion).toBe('policy/v1');
    });

    it("F2 the webhook Service maps 443 to the webhook's HTTPS port, the agent Service its HTTP port", () => {
      const ports = (name: string) => (findObject(defaults, 'Service', name).spec as { ports: { name: string; port: number; targetPort: string }[] }).ports;
      const webhook = container(defaults, 'webhook');
      const agent = container(defaults, 'agent');
      const https = ports(`${FULLNAME}-webhook`).find((p) => p.port === 443);
      expect(webhook.ports.find((p) => p.name === https?.targetPort)?.containerPort).toBe(8443);
      expect(Number(argValue(webhook.args, '--port'))).toBe(8443);
      const http = ports(`${FULLNAME}-agent`).find((p) => p.name === 'http');
      expect(http?.port).toBe(8080);
      expect(agent.ports.find((p) => p.name === http?.targetPort)?.containerPort).toBe(8080);
    });

    it('R11 the policy value is the policy file both containers read; a change restarts the Pods', async () => {
      const policy = { default: { mode: 'suggest' }, namespaces: { payments: { mode: 'off' } } };
      const objects = await helm.template(merge(BASE, { policy }), { release: RELEASE, namespace: NS });
      const cm = findObject(objects, 'ConfigMap', `${FULLNAME}-policy`);
      expect(parseYaml((cm.data as Record<string, string>)['policy.yaml'] ?? '')).toEqual(policy);
      for (const name of ['webhook', 'agent']) expect(argValue(container(objects, name).args, '--policy')).toBe('/etc/rollguard/policy/policy.yaml');
      const checksum = (o: readonly KubeObject[]) => (findObject(o, 'Deployment').spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations['checksum/policy'];
      expect(checksum(objects)).not.toBe(checksum(defaults));
      expect(parseYaml((findObject(defaults, 'ConfigMap', `${FULLNAME}-policy`).data as Record<string, string>)['policy.yaml'] ?? '')).toEqual({});
    });

    it('R11 policySource crd: both containers watch the policy objects, the webhook may list and watch them, and no policy file is rendered', async () => {
      const objects = await helm.template(merge(BASE, { policySource: 'crd', policy: { default: { mode: 'off' } } }), { release: RELEASE, namespace: NS });
      for (const name of ['webhook', 'agent']) {
        const c = container(objects, name);
        expect(argValue(c.args, '--policy-source')).toBe('crd');
        expect(c.args).not.toContain('--policy');
        expect(c.volumeMounts.map((m) => m.name)).not.toContain('policy');
      }
      expect(objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.name === `${FULLNAME}-policy`)).toEqual([]);
      expect(podSpec(objects).volumes.map((v) => v.name)).not.toContain('policy');
      expect(rulesOf(findObject(objects, 'ClusterRole', `${FULLNAME}-webhook`))).toEqual([
        { apiGroups: [''], resources: ['configmaps', 'secrets'], verbs: ['list', 'watch'] },
        { apiGroups: ['rollguard.io'], resources: ['rollbackpolicies', 'clusterrollbackpolicies'], verbs: ['list', 'watch'] },
      ]);
      expect((findObject(objects, 'Deployment').spec as { template: { metadata: { annotations?: Record<string, string> } } }).template.metadata.annotations?.['checksum/policy']).toBeUndefined();
    });

    it.each([
      ['an unknown policy source', { policySource: 'configmap' }, /policySource: policySource must be one of the following: "file", "crd"/],
      ['a misspelt key', { webhook: { timeoutSecond: 3 } }, /webhook: Additional property timeoutSecond is not allowed/],
      ['an unknown top-level key', { replicas: 3 }, /Additional property replicas is not allowed/],
      ['a webhook timeout above 5 s (F2)', { webhook: { timeoutSeconds: { validating: 10 } } }, /webhook\.timeoutSeconds\.validating: Must be less than or equal to 5/],
      ['a webhook timeout as one number (before the mutating/validating split)', { webhook: { timeoutSeconds: 5 } }, /webhook\.timeoutSeconds: Invalid type\. Expected: object, given: integer/],
      ['a kube version that is not one', { kubeVersion: 'latest' }, /kubeVersion: Does not match pattern/],
      ['an unknown certificate mode', { certs: { mode: 'manual' } }, /certs\.mode: certs\.mode must be one of the following: "generate", "cert-manager", "existingSecret"/],
      ['a duration that is not one', { agent: { leaseDuration: 'fifteen' } }, /agent\.leaseDuration: Does not match pattern/],
      ['a webhook deadline of 5 s or more (F2: past every timeoutSeconds)', { webhook: { deadline: '5s' } }, /webhook\.deadline: Does not match pattern/],
      ['a webhook deadline that is not a duration', { webhook: { deadline: 'fast' } }, /webhook\.deadline: Does not match pattern/],
      ['a policy with a third top-level key', { policy: { defaults: {} } }, /policy: Additional property defaults is not allowed/],
    ])('F5 %s fails helm install with a message naming it', async (_label, bad, message) => {
      const err = await helm.template(merge(BASE, bad), { release: RELEASE, namespace: NS }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(HelmError);
      expect((err as HelmError).stderr).toMatch(/values don't meet the specifications of the schema/);
      expect((err as HelmError).stderr).toMatch(message);
    });

    it('F5 without a Prometheus URL the install says which value to set', async () => {
      await expect(helm.template({}, { release: RELEASE, namespace: NS })).rejects.toThrow(/agent\.prometheus\.url is required: the Prometheus base URL/);
    });

    it('F2 the ServiceMonitor, PrometheusRule, NetworkPolicy and dashboard are off by default and rendered when enabled', async () => {
      const optional = ['ServiceMonitor', 'PrometheusRule', 'NetworkPolicy'];
      expect(defaults.filter((o) => optional.includes(o.kind))).toEqual([]);
      expect(defaults.some((o) => o.metadata.name === `${FULLNAME}-dashboard`)).toBe(false);
      expect(defaults.map((o) => o.kind).sort()).toEqual(
        ['ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'MutatingWebhookConfiguration', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Secret', 'Secret', 'Service', 'Service', 'ServiceAccount', 'ServiceAccount', 'ValidatingWebhookConfiguration'],
      );
      const all = await helm.template(merge(BASE, { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true }, networkPolicy: { enabled: true, agentFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }] }, grafanaDashboard: { enabled: true } }), { release: RELEASE, namespace: NS });
      const sm = findObject(all, 'ServiceMonitor').spec as { endpoints: { port: string }[] };
      const servicePorts = all.filter((o) => o.kind === 'Service').flatMap((s) => (s.spec as { ports: { name: string }[] }).ports.map((p) => p.name));
      for (const e of sm.endpoints) expect(servicePorts).toContain(e.port);
      const np = findObject(all, 'NetworkPolicy').spec as { ingress: { ports: { port: number }[]; from?: unknown[] }[] };
      expect(np.ingress.map((r) => r.ports[0]?.port)).toEqual([8443, 8080, 8081]);
      // agentFrom, and the agents themselves: a standby forwards Alertmanager's notifications to the leader (R10).
      expect(np.ingress[1]?.from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }, { podSelector: { matchLabels: (findObject(all, 'Deployment', FULLNAME).spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels } }]);
      const dashboard = findObject(all, 'ConfigMap', `${FULLNAME}-dashboard`);
      expect(dashboard.metadata.labels?.grafana_dashboard).toBe('1');
      expect((JSON.parse((dashboard.data as Record<string, string>)['rollguard.json'] ?? '') as { title: string }).title).toBe('rollguard');
    });

    it('F1 the dashboard and the alerts query only metrics rollguard exports, in valid PromQL (promtool)', async () => {
      const exported = new Set<string>();
      for (const registry of [createAgentMetrics(() => []).registry, createMetrics().registry]) {
        for (const m of registry.getMetricsAsArray()) {
          exported.add(m.name);
          if (m.type.toString() === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exported.add(m.name + s);
        }
      }
      const all = await helm.template(merge(BASE, { prometheusRule: { enabled: true }, grafanaDashboard: { enabled: true } }), { release: RELEASE, namespace: NS });
      const rules = ruleGroups(all).flatMap((g) => g.rules.map((r) => r.expr));
      const dashboard = JSON.parse(readFileSync(join(CHART_DIR, 'dashboards', 'rollguard.json'), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
      const panels = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
      expect(panels.length).toBeGreaterThan(5);
      const used = [...rules, ...panels].flatMap((e) => e.match(/\brollguard_[a-z_]+/g) ?? []);
      expect(used.length).toBeGreaterThan(10);
      for (const name of used) expect(exported, `${name} is not a metric rollguard exports`).toContain(name);
      // promtool checks the dashboard's expressions as recording rules ($namespace filled in).
      const file = join(workDir, 'dashboard-rules.yaml');
      await writeFile(file, stringify({ groups: [{ name: 'dashboard', rules: panels.map((expr, i) => ({ record: `rollguard:dashboard_${String(i)}`, expr: expr.replaceAll('$namespace', 'ops') })) }] }));
      const { stdout } = await runFile('promtool', ['check', 'rules', file]);
      expect(stdout).toMatch(new RegExp(`SUCCESS: ${String(panels.length)} rules found`));
    });

    it.each([
      [
        'default',
        [
          ['http_requests_total{namespace="shop",service="checkout",code="200"}', '0+600x30'],
          ['http_requests_total{namespace="shop",service="checkout",code="500"}', '0+60x30'],
          ['http_requests_total{namespace="shop",service="cart",code="200"}', '0+600x30'],
          ['http_requests_total{namespace="shop",service="cart",code="503"}', '0+3x30'],
        ],
        {},
      ],
      [
        'istio',
        [
          ['istio_requests_total{reporter="destination",destination_service_namespace="shop",destination_service_name="checkout",response_code="200"}', '0+600x30'],
          ['istio_requests_total{reporter="destination",destination_service_namespace="shop",destination_service_name="checkout",response_code="503"}', '0+60x30'],
          // The client side's view of cart: not what cart answered, so never counted.
          ['istio_requests_total{reporter="source",destination_service_namespace="shop",destination_service_name="cart",response_code="503"}', '0+600x30'],
          ['istio_requests_total{reporter="destination",destination_service_namespace="shop",destination_service_name="cart",response_code="200"}', '0+600x30'],
        ],
        { destination_service_namespace: 'shop', destination_service_name: 'checkout' },
      ],
      [
        'opentelemetry',
        [
          ['http_server_request_duration_seconds_count{k8s_namespace_name="shop",service_name="checkout",http_response_status_code="200"}', '0+600x30'],
          ['http_server_request_duration_seconds_count{k8s_namespace_name="shop",service_name="checkout",http_response_status_code="503"}', '0+60x30'],
          ['http_server_request_duration_seconds_count{k8s_namespace_name="shop",service_name="cart",http_response_status_code="200"}', '0+600x30'],
          ['http_server_request_duration_seconds_count{k8s_namespace_name="shop",service_name="cart",http_response_status_code="404"}', '0+600x30'],
        ],
        { k8s_namespace_name: 'shop', service_name: 'checkout' },
      ],
      [
        'linkerd',
        [
          ['response_total{direction="inbound",namespace="shop",deployment="checkout",status_code="200"}', '0+600x30'],
          ['response_total{direction="inbound",namespace="shop",deployment="checkout",status_code="503"}', '0+60x30'],
          // cart's calls out, failing: what cart was answered, not what it answered.
          ['response_total{direction="outbound",namespace="shop",deployment="cart",status_code="503"}', '0+600x30'],
          ['response_total{direction="inbound",namespace="shop",deployment="cart",status_code="200"}', '0+600x30'],
        ],
        { deployment: 'checkout' },
      ],
      [
        'grpc',
        [
          ['grpc_server_handled_total{namespace="shop",service="checkout",grpc_code="OK"}', '0+600x30'],
          ['grpc_server_handled_total{namespace="shop",service="checkout",grpc_code="Unavailable"}', '0+60x30'],
          // NotFound is an answer, not a server error.
          ['grpc_server_handled_total{namespace="shop",service="cart",grpc_code="OK"}', '0+600x30'],
          ['grpc_server_handled_total{namespace="shop",service="cart",grpc_code="NotFound"}', '0+600x30'],
        ],
        {},
      ],
    ] as const)('R5 the error-share alert (preset %s) fires for the regressing service only, labelled namespace and service as /alertmanager expects (promtool test rules)', async (preset, series, extraLabels) => {
      const all = await helm.template(merge(BASE, { prometheusRule: { enabled: true, errorShare: { preset }, health: { enabled: false } } }), { release: RELEASE, namespace: NS });
      const [group] = ruleGroups(all);
      const rule = group?.rules.find((r) => r.alert === 'RollguardErrorShareHigh');
      expect(rule).toBeDefined();
      const summary = (rule?.annotations.summary ?? '').replace('{{ $labels.namespace }}', 'shop').replace('{{ $labels.service }}', 'checkout');
      expect(summary).toBe('The 5xx share of shop/checkout is above 0.02');
      const out = await promtoolTest(all, [
        {
          interval: '1m',
          input_series: series.map(([s, values]) => ({ series: s, values })),
          alert_rule_test: [
            // Pending, not yet firing: the breach must last `for`.
            { eval_time: '1m', alertname: 'RollguardErrorShareHigh', exp_alerts: [] },
            {
              eval_time: '10m',
              alertname: 'RollguardErrorShareHigh',
              exp_alerts: [{ exp_labels: { namespace: 'shop', service: 'checkout', severity: 'warning', rollguard: 'evaluate', ...extraLabels }, exp_annotations: { ...rule?.annotations, summary } }],
            },
          ],
        },
      ]);
      expect(out).toMatch(/SUCCESS/);
    });

    it("F1 rollguard's own health alerts fire: no agent leading, a stale watch, repeated failures, no webhook answering, the webhook failing open (promtool test rules)", async () => {
      const all = await helm.template(merge(BASE, { prometheusRule: { enabled: true, errorShare: { enabled: false } } }), { release: RELEASE, namespace: NS });
      const rules = new Map(ruleGroups(all).flatMap((g) => g.rules).map((r) => [r.alert, r] as const));
      const agent = `namespace="${NS}",job="${FULLNAME}-agent"`;
      const webhook = `namespace="${NS}",job="${FULLNAME}-webhook"`;
      const fires = (alertname: string, labels: Record<string, string>, fill: Record<string, string> = {}) => {
        const annotations = { ...rules.get(alertname)?.annotations };
        for (const [k, v] of Object.entries(annotations)) annotations[k] = Object.entries(fill).reduce((text, [from, to]) => text.replace(from, to), v);
        return { eval_time: '20m', alertname, exp_alerts: [{ exp_labels: { severity: 'warning', ...labels }, exp_annotations: annotations }] };
      };
      const quiet = (alertname: string) => ({ eval_time: '20m', alertname, exp_alerts: [] });
      const out = await promtoolTest(all, [
        {
          interval: '1m',
          input_series: [
            { series: `rollguard_agent_leader{${agent},instance="a"}`, values: '0x30' },
            { series: `rollguard_agent_leader{${agent},instance="b"}`, values: '0x30' },
            { series: `rollguard_agent_watch_last_event_age_seconds{${agent},instance="a",resource="deployments"}`, values: '4000x30' },
            { series: `rollguard_agent_watch_last_event_age_seconds{${agent},instance="a",resource="jobs"}`, values: '20x30' },
            { series: `rollguard_agent_failures_total{${agent},instance="a",kind="record-stripped"}`, values: '0+1x30' },
            { series: `up{${webhook},instance="a"}`, values: '0x30' },
            { series: `rollguard_admission_requests_total{${webhook},instance="a",webhook="mutate",kind="Deployment",operation="UPDATE",outcome="failed-open"}`, values: '0+5x30' },
          ],
          alert_rule_test: [
            fires('RollguardAgentNotLeading', {}),
            fires('RollguardAgentWatchStale', { resource: 'deployments' }, { '{{ $labels.resource }}': 'deployments', '{{ $value | humanizeDuration }}': '1h 6m 40s' }),
            fires('RollguardAgentFailures', { kind: 'record-stripped' }, { '{{ $labels.kind }}': 'record-stripped' }),
            fires('RollguardWebhookDown', {}),
            fires('RollguardWebhookFailingOpen', {}),
          ],
        },
        {
          interval: '1m',
          input_series: [
            { series: `rollguard_agent_leader{${agent},instance="a"}`, values: '1x30' },
            { series: `rollguard_agent_leader{${agent},instance="b"}`, values: '0x30' },
            { series: `rollguard_agent_watch_last_event_age_seconds{${agent},instance="a",resource="deployments"}`, values: '20x30' },
            { series: `rollguard_agent_failures_total{${agent},instance="a",kind="record-stripped"}`, values: '3x30' },
            { series: `up{${webhook},instance="a"}`, values: '1x30' },
            { series: `rollguard_admission_requests_total{${webhook},instance="a",webhook="mutate",kind="Deployment",operation="UPDATE",outcome="patched"}`, values: '0+5x30' },
          ],
          alert_rule_test: ['RollguardAgentNotLeading', 'RollguardAgentWatchStale', 'RollguardAgentFailures', 'RollguardWebhookDown', 'RollguardWebhookFailingOpen'].map(quiet),
        },
      ]);
      expect(out).toMatch(/SUCCESS/);
    });
  },
  { start: false },
);

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

type AlertRule = { alert: string; expr: string; annotations: Record<string, string> };

function ruleGroups(objects: readonly KubeObject[]): { name: string; rules: AlertRule[] }[] {
  return (findObject(objects, 'PrometheusRule').spec as { groups: { name: string; rules: AlertRule[] }[] }).groups;
}

/** `promtool test rules` over the rendered PrometheusRule's groups; rejects with promtool's output on a failed test. */
async function promtoolTest(objects: readonly KubeObject[], tests: unknown[]): Promise<string> {
  const rulesFile = join(workDir, `rules-${String(Date.now())}-${String(Math.random()).slice(2, 8)}.yaml`);
  const testFile = `${rulesFile}.test.yaml`;
  await writeFile(rulesFile, stringify({ groups: ruleGroups(objects) }));
  await writeFile(testFile, stringify({ rule_files: [rulesFile], evaluation_interval: '1m', tests }));
  try {
    const { stdout, stderr } = await runFile('promtool', ['test', 'rules', testFile]);
    return stdout + stderr;
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`promtool test rules failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
  }
}
