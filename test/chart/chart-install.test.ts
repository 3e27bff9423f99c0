import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import { policyPaths } from '../../src/policy/policy-crds.js';
import { ensureCertificates } from '../../src/certs/store.js';
import { isStatus, KubeApiError, KubeRest } from '../../src/kube/rest.js';
import { controlPlane, describeWithControlPlane, type ControlPlane } from '../support/control-plane.js';
import { REPO_ROOT } from '../support/control-plane-launch.js';
import { startKubelet } from '../support/kubelet.js';
import { installRollguardCrds } from '../support/rollguard-crds.js';
import { createTestNamespace, TEST_NAMESPACE_LABEL, type TestNamespace } from '../support/namespaces.js';
import { freePort, httpOk, startProcess, type ManagedProcess } from '../support/process.js';
import { waitFor } from '../support/wait.js';
import { CHART_DIR, createHelm, findObject, parseManifests, type Helm, type KubeObject } from './helm.js';
import { startRecordingProxy, type RecordedRequest } from './recording-proxy.js';

// The chart installed into the run's real kube-apiserver 1.20 with helm 3.5.4. There is no kubelet,
// so the chart's Pods never run: the webhook and the agent run here as processes with the chart's
// own arguments, its ServiceAccounts' credentials, its certificate and its policy, and the chart's
// webhook configurations are pointed at the local webhook by URL. Their API traffic goes through a
// recording proxy, which is how F3 (Secret metadata only) is shown for what they really send.

const CLI = join(REPO_ROOT, 'src/cli/main.ts');
const AGENT_ID = 'chart-test-agent';

type Container = { name: string; args: string[] };
type WebhookConfig = { webhooks: { name: string; clientConfig: Record<string, unknown> & { caBundle?: string; service?: { name: string; namespace: string } } }[] };
type Secret = { data?: Record<string, string>; metadata: { annotations?: Record<string, string> } };
type Annotated = { metadata: { annotations?: Record<string, string> } };

const MUTATING = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
const VALIDATING = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';

let cp: ControlPlane;
let admin: KubeRest;
let helm: Helm;
let dir: string;
let own: TestNamespace;
let app: TestNamespace;
let installOutput = '';
let installed = false;
let uninstalled = false;
const release = `rollguard-${randomBytes(3).toString('hex')}`;
// The release name contains the chart name, so it is the objects' name prefix.
const agentSa = `${release}-agent`;
const webhookSa = `${release}-webhook`;

function b64(text: string | undefined): string {
  return Buffer.from(text ?? '', 'base64').toString('utf8');
}

async function manifest(): Promise<KubeObject[]> {
  return parseManifests((await helm.run(['get', 'manifest', release, '-n', own.name])).stdout);
}

function chartContainer(objects: readonly KubeObject[], name: string): Container {
  const spec = findObject(objects, 'Deployment', release).spec as { template: { spec: { containers: Container[] } } };
  const c = spec.template.spec.containers.find((x) => x.name === name);
  if (c === undefined) throw new Error(`the chart's Deployment has no ${name} container`);
  return c;
}

/** The chart's arguments with each `--flag value` in `replace` given a local value; every flag must be the chart's. */
function localArgs(args: readonly string[], replace: Record<string, string>, add: readonly string[]): string[] {
  const out = [...args];
  for (const [flag, value] of Object.entries(replace)) {
    const i = out.indexOf(flag);
    if (i < 0 || i + 1 >= out.length) throw new Error(`the chart no longer passes ${flag}: ${args.join(' ')}`);
    out[i + 1] = value;
  }
  return [...out, ...add];
}

function kubeconfigYaml(server: string, caPem: string, token: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: 'sa', user: { token } }],
    contexts: [{ name: 'sa', context: { cluster: 'test', user: 'sa' } }],
    'current-context': 'sa',
  });
}

function restAs(server: string, caPem: string, token: string): KubeRest {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(server, caPem, token));
  return new KubeRest(kc);
}

async function tlsSecret(): Promise<Secret> {
  return admin.get<Secret>(`/api/v1/namespaces/${own.name}/secrets/${release}-webhook-tls`);
}

/** The token the token controller put into the chart's ServiceAccount token Secret. */
async function webhookToken(): Promise<string> {
  return waitFor(`the token in Secret ${release}-webhook-token`, async () => {
    const s = await admin.get<Secret>(`/api/v1/namespaces/${own.name}/secrets/${release}-webhook-token`);
    return s.data?.token === undefined ? undefined : b64(s.data.token);
  }, { timeoutMs: 60_000, intervalMs: 250 });
}

/** A bound token for the agent's ServiceAccount, as the Pod's projected volume would get (TokenRequest API). */
async function agentToken(): Promise<string> {
  const r = await admin.create<{ status: { token: string } }>(`/api/v1/namespaces/${own.name}/serviceaccounts/${agentSa}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 3600 },
  });
  return r.status.token;
}

type Access = { verb: string; resource: string; group?: string; namespace?: string; name?: string; subresource?: string };

/** SubjectAccessReview for a ServiceAccount of the release, with the groups the apiserver gives it. */
async function allowed(sa: string, a: Access): Promise<boolean> {
  const r = await admin.create<{ status: { allowed: boolean } }>('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: `system:serviceaccount:${own.name}:${sa}`,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${own.name}`, 'system:authenticated'],
      resourceAttributes: { group: a.group ?? '', ...a },
    },
  });
  return r.status.allowed;
}

async function notFound(path: string): Promise<boolean> {
  try {
    await admin.get(path);
    return false;
  } catch (err) {
    if (isStatus(err, 404)) return true;
    throw err;
  }
}

describeWithControlPlane('the Helm chart on a real apiserver: helm install, the chart-configured processes, upgrade, uninstall', () => {
  beforeAll(async () => {
    cp = await controlPlane();
    admin = new KubeRest(cp.kubeConfig);
    helm = await createHelm(join(cp.binDir, 'helm'), cp.kubeconfig);
    dir = await mkdtemp(join(tmpdir(), 'rollguard-chart-install-'));
    own = await createTestNamespace('chart-rg', { kubeConfig: cp.kubeConfig });
    app = await createTestNamespace('chart-app', { kubeConfig: cp.kubeConfig });
    const values = {
      agent: { prometheus: { url: 'http://127.0.0.1:9' }, interval: '2s' },
      // The apiserver dials the local webhook at 127.0.0.1, so the serving certificate must name it.
      certs: { extraIpAddresses: ['127.0.0.1'] },
      // Only this test's application namespace: the shared control plane's other tests never meet this webhook.
      webhook: { namespaceSelector: { matchExpressions: [{ key: TEST_NAMESPACE_LABEL, operator: 'In', values: [app.name] }] } },
      policy: { default: { mode: 'suggest' } },
    };
    const file = await helm.valuesFile(values);
    installed = true;
    installOutput = (await helm.run(['install', release, CHART_DIR, '--namespace', own.name, '-f', file])).stdout;
  }, 240_000);

  afterAll(async () => {
    if (installed && !uninstalled) await helm.run(['uninstall', release, '--namespace', own.name]).catch(() => undefined);
    await Promise.all([own.cleanup(), app.cleanup()]);
    await helm.cleanup();
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it('F2 helm install: every object is accepted, the webhook configurations are registered with the CA of the serving certificate, and the notes say how to check it', async () => {
    const status = JSON.parse((await helm.run(['status', release, '--namespace', own.name, '-o', 'json'])).stdout) as { info: { status: string } };
    expect(status.info.status).toBe('deployed');
    const objects = await manifest();
    const file = join(dir, 'manifest.yaml');
    await writeFile(file, objects.map((o) => stringify(o)).join('---\n'));
    const live = JSON.parse((await cp.kubectl(['get', '-f', file, '-o', 'json'])).stdout) as { items: KubeObject[] };
    expect(live.items.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort());
    expect(objects.find((o) => o.kind === 'PodDisruptionBudget')?.apiVersion).toBe('policy/v1beta1');

    const ca = b64((await tlsSecret()).data?.['ca.crt']);
    // The mutating stamps; the validating blackout guard and policy check.
    for (const [path, names] of [[`${MUTATING}/${release}`, ['stamp.rollguard.io']], [`${VALIDATING}/${release}`, ['blackout.rollguard.io', 'policy.rollguard.io']]] as const) {
      const config = await admin.get<WebhookConfig>(path);
      expect(config.webhooks.map((w) => w.name)).toEqual(names);
      for (const w of config.webhooks) {
        expect(b64(w.clientConfig.caBundle)).toBe(ca);
        expect(w.clientConfig.service).toMatchObject({ name: `${release}-webhook`, namespace: own.name });
      }
    }
    expect(installOutput).toContain(`kubectl -n ${own.name} get pods -l app.kubernetes.io/instance=${release}`);
    expect(installOutput).toContain('/readyz');
    expect(installOutput).toMatch(/rollguard inspect deployment\/smoke -n rollguard-smoke/);
  });

  it("R12 F3 with the chart's arguments, certificate, policy and ServiceAccounts: a Deployment is stamped through the real apiserver, the agent syncs, leads and its record stands; every Secret request asks for metadata only", async () => {
    const objects = await manifest();
    const secret = await tlsSecret();
    const certFile = join(dir, 'tls.crt');
    const keyFile = join(dir, 'tls.key');
    await writeFile(certFile, b64(secret.data?.['tls.crt']));
    await writeFile(keyFile, b64(secret.data?.['tls.key']), { mode: 0o600 });
    const policy = await admin.get<{ data: Record<string, string> }>(`/api/v1/namespaces/${own.name}/configmaps/${release}-policy`);
    const policyFile = join(dir, 'policy.yaml');
    await writeFile(policyFile, policy.data['policy.yaml'] ?? '');

    const tokens = { webhook: await webhookToken(), agent: await agentToken() };
    const proxyCerts = await ensureCertificates({ outDir: join(dir, 'proxy-certs'), names: ['127.0.0.1'], days: 1, now: Date.now() });
    const proxy = await startRecordingProxy({
      upstream: cp.apiserverUrl,
      upstreamCa: await readFile(cp.caFile, 'utf8'),
      cert: await readFile(proxyCerts.paths.cert, 'utf8'),
      key: await readFile(proxyCerts.paths.key, 'utf8'),
      identities: new Map([
        [tokens.webhook, 'webhook'],
        [tokens.agent, 'agent'],
        [cp.adminToken, 'admin'],
      ]),
    });
    const processes: ManagedProcess[] = [];
    const originalClientConfigs = new Map<string, unknown>();
    try {
      const webhookKubeconfig = join(dir, 'webhook.kubeconfig');
      const agentKubeconfig = join(dir, 'agent.kubeconfig');
      await writeFile(webhookKubeconfig, kubeconfigYaml(proxy.url, proxyCerts.caPem, tokens.webhook), { mode: 0o600 });
      await writeFile(agentKubeconfig, kubeconfigYaml(proxy.url, proxyCerts.caPem, tokens.agent), { mode: 0o600 });
      const start = (name: string, args: string[], ready: () => Promise<boolean>) =>
        startProcess({ name, command: process.execPath, args: ['--import', 'tsx', CLI, ...args], cwd: REPO_ROOT, ready, timeoutMs: 90_000 });

      const [port, healthPort, agentPort, deadPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
      const webhookArgs = localArgs(
        chartContainer(objects, 'webhook').args,
        { '--port': String(port), '--health-port': String(healthPort), '--tls-cert': certFile, '--tls-key': keyFile, '--policy': policyFile },
        ['--host', '127.0.0.1', '--kubeconfig', webhookKubeconfig],
      );
      expect(webhookArgs).toEqual(expect.arrayContaining(['--namespace', own.name, '--agent-service-account', agentSa]));
      // Ready only once its ConfigMap/Secret stamp cache has listed: the webhook's RBAC suffices.
      processes.push(await start('rollguard-webhook', webhookArgs, () => httpOk(`http://127.0.0.1:${String(healthPort)}/readyz`)));

      for (const [collection, path] of [
        [MUTATING, '/mutate'],
        [VALIDATING, '/validate'],
      ] as const) {
        const config = await admin.get<WebhookConfig>(`${collection}/${release}`);
        const chartConfig = config.webhooks[0]?.clientConfig;
        originalClientConfigs.set(collection, chartConfig);
        // The chart's caBundle stays: the local webhook serves the chart's certificate.
        await admin.patch(`${collection}/${release}`, 'json', [{ op: 'replace', path: '/webhooks/0/clientConfig', value: { url: `https://127.0.0.1:${String(port)}${path}`, caBundle: chartConfig?.caBundle } }]);
      }
      await waitFor('the apiserver to call the local webhook for the application namespace', async () => {
        const name = `probe-${randomBytes(3).toString('hex')}`;
        const created = await admin.create<Annotated>(`/api/v1/namespaces/${app.name}/configmaps`, { metadata: { name }, data: { a: '1' } });
        await admin.request('DELETE', `/api/v1/namespaces/${app.name}/configmaps/${name}`);
        return created.metadata.annotations?.[ANNOTATIONS.createdAt.key] !== undefined;
      }, { timeoutMs: 30_000, intervalMs: 300 });

      const agentArgs = localArgs(
        chartContainer(objects, 'agent').args,
        { '--prometheus': `http://127.0.0.1:${String(deadPort)}`, '--id': AGENT_ID, '--port': String(agentPort), '--policy': policyFile },
        ['--kubeconfig', agentKubeconfig],
      );
      processes.push(await start('rollguard-agent', agentArgs, () => httpOk(`http://127.0.0.1:${String(agentPort)}/readyz`)));

      const kubelet = await startKubelet({ kubeConfig: cp.kubeConfig, namespace: app.name });
      try {
        await admin.create(`/api/v1/namespaces/${app.name}/secrets`, { metadata: { name: 'shop-credentials' }, stringData: { password: 'not-for-rollguard' } });
        await admin.create(`/api/v1/namespaces/${app.name}/configmaps`, { metadata: { name: 'shop-config' }, data: { mode: 'fast' } });
        const deployment = await admin.create<Annotated>(`/apis/apps/v1/namespaces/${app.name}/deployments`, {
          metadata: { name: 'shop', labels: { 'app.kubernetes.io/name': 'shop' } },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: 'shop' } },
            template: {
              metadata: { labels: { app: 'shop', 'app.kubernetes.io/name': 'shop' } },
              spec: { containers: [{ name: 'shop', image: 'registry.example/shop:1', envFrom: [{ configMapRef: { name: 'shop-config' } }, { secretRef: { name: 'shop-credentials' } }] }] },
            },
          },
        });
        const stamps = deployment.metadata.annotations ?? {};
        expect(stamps[ANNOTATIONS.templateChangedAt.key]).toBeDefined();
        expect(stamps[ANNOTATIONS.changeSet.key]).toBeDefined();
        // The chart's policy value reached the webhook.
        expect(JSON.parse(stamps[ANNOTATIONS.eligibilityReasons.key] ?? '[]')).toContain('the policy mode for this namespace is "suggest", not "auto"');

        // rollout-completed is rollguard-owned: it stays only because the webhook trusts the agent's ServiceAccount.
        const completed = await waitFor('the agent to record the completed rollout on the Deployment', async () => {
          const d = await admin.get<Annotated>(`/apis/apps/v1/namespaces/${app.name}/deployments/shop`);
          return d.metadata.annotations?.[ANNOTATIONS.rolloutCompleted.key];
        }, { timeoutMs: 90_000, intervalMs: 500, detail: () => processes.map((p) => `--- ${p.name}\n${p.logTail()}`).join('\n') });
        expect(JSON.parse(completed)).toHaveProperty('at');
        const lease = await admin.get<{ spec: { holderIdentity?: string } }>(`/apis/coordination.k8s.io/v1/namespaces/${own.name}/leases/rollguard-agent`);
        expect(lease.spec.holderIdentity).toBe(AGENT_ID);
        const readyz = await fetch(`http://127.0.0.1:${String(agentPort)}/readyz`);
        expect(await readyz.text()).toMatch(/leader/);
        // The control: a whole Secret through the proxy is seen as one.
        await restAs(proxy.url, proxyCerts.caPem, cp.adminToken).get(`/api/v1/namespaces/${app.name}/secrets/shop-credentials`);
      } finally {
        await kubelet.stop();
      }
    } finally {
      for (const p of processes.reverse()) await p.stop();
      await proxy.stop();
      for (const [collection, clientConfig] of originalClientConfigs) {
        await admin.patch(`${collection}/${release}`, 'json', [{ op: 'replace', path: '/webhooks/0/clientConfig', value: clientConfig }]);
      }
    }

    expect(proxy.requests.filter((r) => r.who === 'admin').map((r) => r.fullSecret)).toEqual([true]);
    const requests = proxy.requests.filter((r) => r.who !== 'admin');
    expect(new Set(requests.map((r) => r.who))).toEqual(new Set(['webhook', 'agent']));
    // Everything either process asked for, the chart's RBAC allowed.
    expect(requests.filter((r) => r.status === 401 || r.status === 403).map((r) => `${r.who} ${r.method} ${r.url} ${String(r.status)}`)).toEqual([]);
    const pathOf = (r: RecordedRequest) => r.url.split('?')[0] ?? '';
    const isSecrets = (r: RecordedRequest) => /\/secrets(\/|$)/.test(pathOf(r));
    const ownSecretGet = (r: RecordedRequest) => r.who === 'agent' && r.method === 'GET' && new RegExp(`^/api/v1/namespaces/${own.name}/secrets/[^/]+$`).test(pathOf(r));
    const secretRequests = requests.filter((r) => isSecrets(r) && !ownSecretGet(r));
    for (const who of ['webhook', 'agent']) {
      const mine = secretRequests.filter((r) => r.who === who);
      expect(mine.some((r) => !/[?&]watch=(true|1)/.test(r.url)), `${who} listed Secrets`).toBe(true);
      expect(mine.some((r) => /[?&]watch=(true|1)/.test(r.url)), `${who} watched Secrets`).toBe(true);
    }
    for (const r of secretRequests) {
      expect(r.method, r.url).toBe('GET');
      expect(r.accept, `${r.who} ${r.url}`).toMatch(/^application\/json;as=PartialObjectMetadata(List)?;g=meta\.k8s\.io;v=v1/);
      expect(r.fullSecret, `${r.who} ${r.url} got a whole Secret`).toBe(false);
    }
  }, 300_000);

  it('R7 F3 requests outside the chart’s RBAC are forbidden: deleting Deployments, writing Secrets or ConfigMaps, reading Secret data outside its namespace, impersonating while the apply button is off', async () => {
    const ns = app.name;
    const agent = (a: Access) => allowed(agentSa, a);
    const webhook = (a: Access) => allowed(webhookSa, a);
    // What the agent needs (positive controls, so a review that always says no would fail here).
    expect(await agent({ verb: 'patch', group: 'apps', resource: 'deployments', namespace: ns, name: 'shop' })).toBe(true);
    expect(await agent({ verb: 'list', resource: 'secrets' })).toBe(true);
    expect(await agent({ verb: 'update', group: 'coordination.k8s.io', resource: 'leases', namespace: own.name, name: 'rollguard-agent' })).toBe(true);
    expect(await agent({ verb: 'get', resource: 'secrets', namespace: own.name, name: 'slack' })).toBe(true);
    expect(await webhook({ verb: 'watch', resource: 'configmaps' })).toBe(true);
    for (const a of [
      { verb: 'delete', group: 'apps', resource: 'deployments', namespace: ns, name: 'shop' },
      { verb: 'update', group: 'apps', resource: 'deployments', namespace: ns, name: 'shop' },
      { verb: 'create', resource: 'secrets', namespace: ns },
      { verb: 'update', resource: 'secrets', namespace: ns, name: 'shop-credentials' },
      { verb: 'get', resource: 'secrets', namespace: ns, name: 'shop-credentials' },
      { verb: 'create', resource: 'configmaps', namespace: ns },
      { verb: 'patch', resource: 'configmaps', namespace: ns, name: 'shop-config' },
      { verb: 'delete', group: 'batch', resource: 'jobs', namespace: ns },
      { verb: 'delete', resource: 'pods', namespace: ns },
      { verb: 'patch', resource: 'services', namespace: ns },
      { verb: 'update', group: 'coordination.k8s.io', resource: 'leases', namespace: own.name, name: 'someone-elses-lease' },
      { verb: 'delete', group: 'coordination.k8s.io', resource: 'leases', namespace: own.name, name: 'rollguard-agent' },
      { verb: 'impersonate', resource: 'users', name: 'alice' },
      { verb: 'impersonate', resource: 'groups', name: 'system:masters' },
      { verb: 'create', group: 'authentication.k8s.io', resource: 'tokenreviews' },
      { verb: 'create', group: 'authorization.k8s.io', resource: 'subjectaccessreviews' },
      { verb: 'update', group: 'admissionregistration.k8s.io', resource: 'mutatingwebhookconfigurations', name: release },
    ]) {
      expect(await agent(a), `agent may ${a.verb} ${a.resource}`).toBe(false);
    }
    for (const a of [
      { verb: 'get', resource: 'secrets', namespace: ns, name: 'shop-credentials' },
      { verb: 'patch', group: 'apps', resource: 'deployments', namespace: ns, name: 'shop' },
      { verb: 'list', group: 'apps', resource: 'deployments' },
      { verb: 'create', resource: 'events', namespace: ns },
      { verb: 'get', group: 'coordination.k8s.io', resource: 'leases', namespace: own.name, name: 'rollguard-agent' },
    ]) {
      expect(await webhook(a), `webhook may ${a.verb} ${a.resource}`).toBe(false);
    }
    // And for real, with the agent's own token.
    const asAgent = restAs(cp.apiserverUrl, await readFile(cp.caFile, 'utf8'), await agentToken());
    const status = async (p: Promise<unknown>) => p.then(() => 200, (err: unknown) => (err instanceof KubeApiError ? err.status : -1));
    expect(await status(asAgent.get(`/apis/apps/v1/namespaces/${ns}/deployments/shop`))).toBe(200);
    expect(await status(asAgent.request('DELETE', `/apis/apps/v1/namespaces/${ns}/deployments/shop`))).toBe(403);
    expect(await status(asAgent.create(`/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'nope' }, data: {} }))).toBe(403);
    expect(await status(asAgent.get(`/api/v1/namespaces/${ns}/secrets/shop-credentials`))).toBe(403);
    expect(await status(asAgent.get(`/api/v1/namespaces/${ns}/pods`, { impersonate: { user: 'alice' } }))).toBe(403);
  }, 120_000);

  it('R10 F2 helm upgrade keeps the CA and serving certificate; the apply button adds impersonation only while on; new names reissue the serving certificate from the same CA', async () => {
    const before = await tlsSecret();
    await helm.run(['upgrade', release, CHART_DIR, '--namespace', own.name, '--reuse-values', '--set', 'applyButton.enabled=true']);
    const kept = await tlsSecret();
    expect(kept.data).toEqual(before.data);
    expect(kept.metadata.annotations?.['chart.rollguard.io/serving-not-after']).toBe(before.metadata.annotations?.['chart.rollguard.io/serving-not-after']);
    for (const path of [`${MUTATING}/${release}`, `${VALIDATING}/${release}`]) {
      expect((await admin.get<WebhookConfig>(path)).webhooks[0]?.clientConfig.caBundle).toBe(before.data?.['ca.crt']);
    }
    expect(await allowed(agentSa, { verb: 'impersonate', resource: 'users', name: 'alice' })).toBe(true);
    expect(await allowed(agentSa, { verb: 'create', group: 'authentication.k8s.io', resource: 'tokenreviews' })).toBe(true);
    expect(await allowed(agentSa, { verb: 'create', group: 'authorization.k8s.io', resource: 'subjectaccessreviews' })).toBe(true);

    await helm.run(['upgrade', release, CHART_DIR, '--namespace', own.name, '--reuse-values', '--set', 'applyButton.enabled=false', '--set', 'certs.extraDnsNames={rollguard.example.test}']);
    expect(await allowed(agentSa, { verb: 'impersonate', resource: 'users', name: 'alice' })).toBe(false);
    expect(await notFound(`/apis/rbac.authorization.k8s.io/v1/clusterroles/${release}-agent-apply`)).toBe(true);
    const renamed = await tlsSecret();
    expect(renamed.data?.['ca.crt']).toBe(before.data?.['ca.crt']);
    expect(renamed.data?.['tls.crt']).not.toBe(before.data?.['tls.crt']);
    const leaf = new X509Certificate(b64(renamed.data?.['tls.crt']));
    expect(leaf.subjectAltName).toContain('DNS:rollguard.example.test');
    expect(leaf.checkIssued(new X509Certificate(b64(before.data?.['ca.crt'])))).toBe(true);
    expect((await admin.get<WebhookConfig>(`${MUTATING}/${release}`)).webhooks[0]?.clientConfig.caBundle).toBe(before.data?.['ca.crt']);
    // The token controller's data survives the upgrade of the token Secret.
    expect(await webhookToken()).not.toBe('');
  }, 180_000);

  it("R11 F5 helm upgrade to policySource crd: the webhook, with the chart's arguments and only its ServiceAccount's rights, watches the policy objects and refuses an invalid one; the policy file is gone", async () => {
    await installRollguardCrds(admin);
    await helm.run(['upgrade', release, CHART_DIR, '--namespace', own.name, '--reuse-values', '--set', 'policySource=crd']);
    const objects = await manifest();
    expect(objects.some((o) => o.kind === 'ConfigMap' && o.metadata.name === `${release}-policy`)).toBe(false);
    expect(await notFound(`/api/v1/namespaces/${own.name}/configmaps/${release}-policy`)).toBe(true);
    const secret = await tlsSecret();
    const certFile = join(dir, 'crd-tls.crt');
    const keyFile = join(dir, 'crd-tls.key');
    await writeFile(certFile, b64(secret.data?.['tls.crt']));
    await writeFile(keyFile, b64(secret.data?.['tls.key']), { mode: 0o600 });
    const webhookKubeconfig = join(dir, 'crd-webhook.kubeconfig');
    await writeFile(webhookKubeconfig, kubeconfigYaml(cp.apiserverUrl, await readFile(cp.caFile, 'utf8'), await webhookToken()), { mode: 0o600 });
    const [port, healthPort] = [await freePort(), await freePort()];
    const args = localArgs(chartContainer(objects, 'webhook').args, { '--port': String(port), '--health-port': String(healthPort), '--tls-cert': certFile, '--tls-key': keyFile }, ['--host', '127.0.0.1', '--kubeconfig', webhookKubeconfig]);
    expect(args).toEqual(expect.arrayContaining(['--policy-source', 'crd']));
    expect(args).not.toContain('--policy');
    // Ready only once it has listed the policy objects: the chart's webhook RBAC must allow it.
    const webhook = await startProcess({ name: 'rollguard-webhook-crd', command: process.execPath, args: ['--import', 'tsx', CLI, ...args], cwd: REPO_ROOT, ready: () => httpOk(`http://127.0.0.1:${String(healthPort)}/readyz`), timeoutMs: 90_000 });
    const path = `${VALIDATING}/${release}`;
    const config = await admin.get<WebhookConfig>(path);
    const index = config.webhooks.findIndex((w) => w.name === 'policy.rollguard.io');
    expect(index).toBeGreaterThanOrEqual(0);
    const original = config.webhooks[index]?.clientConfig;
    try {
      await admin.patch(path, 'json', [{ op: 'replace', path: `/webhooks/${String(index)}/clientConfig`, value: { url: `https://127.0.0.1:${String(port)}/validate`, caBundle: original?.caBundle } }]);
      const create = (name: string, spec: unknown) => admin.create(policyPaths.namespaced(app.name), { apiVersion: 'rollguard.io/v1alpha1', kind: 'RollbackPolicy', metadata: { name }, spec });
      const refusal = await waitFor('the apiserver to call the local webhook for policy objects', async () => {
        try {
          await create(`bad-${randomBytes(3).toString('hex')}`, { mode: 'auto', thresholds: { persistence: '1h' } });
          return undefined;
        } catch (err) {
          if (err instanceof KubeApiError) return err.message;
          throw err;
        }
      }, { timeoutMs: 30_000, intervalMs: 500, detail: () => webhook.logTail() });
      expect(refusal).toMatch(/thresholds\.persistence: 1h is 120 evaluations at metrics\.step 30s/);
      await create('good', { mode: 'suggest', thresholds: { persistence: '2m' } });
    } finally {
      await admin.patch(path, 'json', [{ op: 'replace', path: `/webhooks/${String(index)}/clientConfig`, value: original }]);
      await webhook.stop();
    }
  }, 180_000);

  it('F2 helm uninstall leaves the cluster working: no webhook configuration, role or binding of the release remains, and writes go through', async () => {
    await helm.run(['uninstall', release, '--namespace', own.name]);
    uninstalled = true;
    for (const path of [
      `${MUTATING}/${release}`,
      `${VALIDATING}/${release}`,
      `/apis/rbac.authorization.k8s.io/v1/clusterroles/${release}-agent`,
      `/apis/rbac.authorization.k8s.io/v1/clusterroles/${release}-webhook`,
      `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${release}-agent`,
      `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${release}-webhook`,
    ]) {
      expect(await notFound(path), path).toBe(true);
    }
    const t0 = Date.now();
    const created = await admin.create<Annotated>(`/api/v1/namespaces/${app.name}/configmaps`, { metadata: { name: 'after-uninstall' }, data: { a: '1' } });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(created.metadata.annotations?.[ANNOTATIONS.createdAt.key]).toBeUndefined();
  }, 120_000);
});
