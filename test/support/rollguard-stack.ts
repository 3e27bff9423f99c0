import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { webhookConfigurations } from '../../src/admission/manifests.js';
import { agentRbac } from '../../src/agent/rbac.js';
import { ensureCertificates } from '../../src/certs/store.js';
import { isStatus, KubeRest } from '../../src/kube/rest.js';
import { controlPlane, type ControlPlane } from './control-plane.js';
import { installRollguardCrds } from './rollguard-crds.js';
import { startKubelet, type Kubelet } from './kubelet.js';
import { createTestNamespace, TEST_NAMESPACE_LABEL, type TestNamespace } from './namespaces.js';
import { freePort, httpOk, startProcess, type ManagedProcess } from './process.js';
import { SCRAPE_JOB, startScrapingPrometheus, type ScrapingPrometheus } from './prometheus-scrape.js';
import { startTestExporter, type TestExporter, type Traffic } from './test-exporter.js';
import { trafficWithHistory } from './traffic-history.js';
import { waitFor } from './wait.js';

// rollguard as it runs in a cluster, on the run's real control plane: the webhook as a process
// registered with the apiserver by URL (so every change in a test is stamped by the real admission
// path), the agent's ServiceAccount with exactly its RBAC and a kubeconfig of its token, a kubelet
// stand-in for the application namespace, and a real Prometheus scraping a test exporter that has
// a pre-deploy history already.

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'src/cli/main.ts');

export type StackService = { service: string; traffic?: Partial<Traffic> };

export interface StackOptions {
  prefix: string;
  /** Replaces the identity the webhook trusts (default: the agent's ServiceAccount). */
  webhookTrustedUser?: string;
  /** Services of the application namespace and their starting traffic. */
  services: readonly StackService[];
  /** Further application namespaces, admitted by the same webhook, each with a kubelet and services of its own. */
  moreNamespaces?: readonly { prefix: string; services: readonly StackService[] }[];
  /** Rule files for Prometheus (e.g. errorShareAlertRule()) and the Alertmanagers (host:port) it alerts. */
  alerting?: { rules: readonly string[]; alertmanagers: readonly string[] };
  /** Policy file contents for the webhook (and for the agent when it runs as a process). */
  policy?: string;
  /** `crd`: the webhook reads the policy CRDs (installed by the caller, see rollguard-crds.ts) instead of the file. */
  policySource?: 'crd';
  historyMs?: number;
  /** A control plane launched by the caller (a benchmark outside vitest); default: the run's. */
  controlPlane?: ControlPlane;
}

export interface Stack {
  cp: ControlPlane;
  /** Where the application runs (the webhook admits only this namespace and `more`). */
  ns: string;
  /** The names of `moreNamespaces`, in their order. */
  more: string[];
  /** rollguard's own namespace: the agent's ServiceAccount and Lease. */
  own: string;
  serviceAccount: string;
  /** A kubeconfig file authenticating as the agent's ServiceAccount. */
  agentKubeconfigPath: string;
  agentKubeConfig(): KubeConfig;
  admin: KubeRest;
  policyPath: string;
  exporter: TestExporter;
  prometheus: ScrapingPrometheus;
  webhook: ManagedProcess;
  /** The webhook's /readyz (200 once its ConfigMap/Secret stamp cache has synced). */
  webhookReadyz: string;
  kubelet: Kubelet;
  dir: string;
  /** Runs the real CLI as a child process (the agent for process-level fault tests). */
  startCli(name: string, args: readonly string[], ready: () => Promise<boolean>, env?: NodeJS.ProcessEnv): Promise<ManagedProcess>;
  stop(): Promise<void>;
}

export async function serviceAccountToken(admin: KubeRest, namespace: string, name: string): Promise<string> {
  return waitFor(`a token Secret for ServiceAccount ${namespace}/${name}`, async () => {
    const sa = await admin.get<{ secrets?: { name: string }[] }>(`/api/v1/namespaces/${namespace}/serviceaccounts/${name}`);
    const secret = sa.secrets?.[0]?.name;
    if (secret === undefined) return undefined;
    const s = await admin.get<{ data?: { token?: string } }>(`/api/v1/namespaces/${namespace}/secrets/${secret}`);
    return s.data?.token === undefined ? undefined : Buffer.from(s.data.token, 'base64').toString('utf8');
  }, { timeoutMs: 60_000 });
}

async function createAll(admin: KubeRest, objects: readonly Record<string, unknown>[]): Promise<string[]> {
  const paths: string[] = [];
  for (const o of objects) {
    const meta = o.metadata as { name: string; namespace?: string };
    const [group, version] = String(o.apiVersion).includes('/') ? String(o.apiVersion).split('/') : ['', String(o.apiVersion)];
    const plural = `${String(o.kind).toLowerCase()}s`.replace(/ys$/, 'ies');
    const base = group === '' ? `/api/${version ?? 'v1'}` : `/apis/${group ?? ''}/${version ?? ''}`;
    const collection = meta.namespace === undefined ? `${base}/${plural}` : `${base}/namespaces/${meta.namespace}/${plural}`;
    await admin.create(collection, o);
    paths.push(`${collection}/${meta.name}`);
  }
  return paths;
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const cp = opts.controlPlane ?? (await controlPlane());
  const admin = new KubeRest(cp.kubeConfig);
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const dir = await mkdtemp(join(tmpdir(), `rollguard-stack-${opts.prefix}-`));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const app: TestNamespace = await createTestNamespace(`${opts.prefix}-app`, { kubeConfig: cp.kubeConfig });
    cleanups.push(() => app.cleanup());
    const more: TestNamespace[] = [];
    for (const m of opts.moreNamespaces ?? []) {
      const extra = await createTestNamespace(`${opts.prefix}-${m.prefix}`, { kubeConfig: cp.kubeConfig });
      cleanups.push(() => extra.cleanup());
      more.push(extra);
    }
    // The agent keeps its decisions as RollbackDecision objects: the CRDs are installed once per control plane.
    await installRollguardCrds(admin);
    const ownNs: TestNamespace = await createTestNamespace(`${opts.prefix}-rg`, { kubeConfig: cp.kubeConfig });
    cleanups.push(() => ownNs.cleanup());
    const serviceAccount = 'rollguard-agent';
    const rbacName = `rollguard-agent-${randomBytes(4).toString('hex')}`;
    const rbacPaths = await createAll(admin, agentRbac({ namespace: ownNs.name, serviceAccount, name: rbacName }));
    cleanups.push(async () => {
      for (const p of rbacPaths) await admin.request('DELETE', p).catch(() => undefined);
    });
    const token = await serviceAccountToken(admin, ownNs.name, serviceAccount);
    const ca = await readFile(cp.caFile, 'utf8');
    const agentKubeconfigPath = join(dir, 'agent.kubeconfig');
    await writeFile(
      agentKubeconfigPath,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'test', cluster: { server: cp.apiserverUrl, 'certificate-authority-data': Buffer.from(ca).toString('base64') } }],
        users: [{ name: 'agent', user: { token } }],
        contexts: [{ name: 'agent', context: { cluster: 'test', user: 'agent' } }],
        'current-context': 'agent',
      }),
    );
    const policyPath = join(dir, 'policy.yaml');
    await writeFile(policyPath, opts.policy ?? '{}\n');

    const certs = await ensureCertificates({ outDir: join(dir, 'certs'), names: ['127.0.0.1', 'localhost'], days: 1, now: Date.now() });
    const startCli = (name: string, args: readonly string[], ready: () => Promise<boolean>, env?: NodeJS.ProcessEnv): Promise<ManagedProcess> =>
      startProcess({ name, command: process.execPath, args: ['--import', 'tsx', CLI, ...args], cwd: ROOT, env: { ...process.env, ...env }, ready, timeoutMs: 60_000 });
    const port = await freePort();
    const healthPort = await freePort();
    const webhookReadyz = `http://127.0.0.1:${String(healthPort)}/readyz`;
    const webhook = await startCli(
      'rollguard-webhook',
      ['webhook', '--host', '127.0.0.1', '--port', String(port), '--health-port', String(healthPort), '--tls-cert', certs.paths.cert, '--tls-key', certs.paths.key, '--kubeconfig', cp.kubeconfig, '--namespace', ownNs.name, '--agent-service-account', serviceAccount, ...(opts.webhookTrustedUser === undefined ? [] : ['--trusted-user', opts.webhookTrustedUser]), ...(opts.policySource === 'crd' ? ['--policy-source', 'crd'] : ['--policy', policyPath])],
      () => httpOk(webhookReadyz),
    );
    cleanups.push(() => webhook.stop());
    const name = `rollguard-${app.name}`;
    const configs = webhookConfigurations({ namespace: ownNs.name, url: `https://127.0.0.1:${port}`, caBundle: Buffer.from(certs.caPem).toString('base64'), name });
    for (const c of configs) {
      // Only this test's application namespaces: other tests' objects never reach this webhook.
      const admitted = [app.name, ...more.map((m) => m.name)];
      for (const w of c.webhooks as { namespaceSelector: unknown }[]) w.namespaceSelector = { matchExpressions: [{ key: TEST_NAMESPACE_LABEL, operator: 'In', values: admitted }] };
    }
    const configPaths = await createAll(admin, configs);
    cleanups.push(async () => {
      for (const p of configPaths) await admin.request('DELETE', p).catch((err: unknown) => {
        if (!isStatus(err, 404)) throw err;
      });
    });
    // The apiserver picks up new webhook configurations asynchronously: wait until a write is stamped.
    await waitFor('the webhook to stamp writes in the test namespace', async () => {
      const cmName = `probe-${randomBytes(3).toString('hex')}`;
      const created = await admin.create<{ metadata?: { annotations?: Record<string, string> } }>(`/api/v1/namespaces/${app.name}/configmaps`, { metadata: { name: cmName }, data: { a: '1' } });
      await admin.request('DELETE', `/api/v1/namespaces/${app.name}/configmaps/${cmName}`);
      return created.metadata?.annotations?.['rollguard.io/created-at'] !== undefined;
    }, { timeoutMs: 30_000 });

    const kubelet = await startKubelet({ kubeConfig: cp.kubeConfig, namespace: app.name });
    cleanups.push(() => kubelet.stop());
    for (const m of more) {
      const extra = await startKubelet({ kubeConfig: cp.kubeConfig, namespace: m.name });
      cleanups.push(() => extra.stop());
    }
    const everyService = [
      ...opts.services.map((s) => ({ namespace: app.name, ...s })),
      ...(opts.moreNamespaces ?? []).flatMap((m, i) => m.services.map((s) => ({ namespace: more[i]?.name ?? '', ...s }))),
    ];
    const { model, historyWith } = trafficWithHistory(
      everyService.map((s) => ({ namespace: s.namespace, service: s.service, traffic: { rps: 100, errorShare: 0.002, latencySeconds: 0.05, ...s.traffic } })),
      { historyMs: opts.historyMs ?? 8 * 60_000, stepMs: 1000 },
    );
    const exporter = await startTestExporter({ model });
    cleanups.push(() => exporter.stop());
    const history = historyWith({ job: SCRAPE_JOB, instance: exporter.target });
    const prometheus = await startScrapingPrometheus({ targets: [exporter.target], history, ...(opts.alerting === undefined ? {} : { rules: opts.alerting.rules, alertmanagers: opts.alerting.alertmanagers }) });
    cleanups.push(() => prometheus.stop());
    // Until the first scrape, the history ends some seconds back: a deploy made in that gap would
    // find it inside its own window.
    await waitFor('Prometheus to scrape the exporter', () => exporter.scrapes.length > 0, { timeoutMs: 30_000, detail: () => prometheus.logTail() });

    return {
      cp,
      ns: app.name,
      more: more.map((m) => m.name),
      own: ownNs.name,
      serviceAccount,
      agentKubeconfigPath,
      agentKubeConfig: () => {
        const kc = new KubeConfig();
        kc.loadFromFile(agentKubeconfigPath);
        return kc;
      },
      admin,
      policyPath,
      exporter,
      prometheus,
      webhook,
      webhookReadyz,
      kubelet,
      dir,
      startCli,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
