import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { ANNOTATIONS } from '../src/core/annotations.js';
import { formatInstant } from '../src/core/duration.js';
import type { PodTemplateSpec } from '../src/core/kube.js';
import { formatTemplateHistory, templateHash, type TemplateHistoryEntry } from '../src/core/template-hash.js';
import type { ControlPlaneFacts } from '../test/support/control-plane-context.js';
import { rng } from '../test/support/metric-scenarios.js';

// Many realistic objects in the real apiserver, fast: Deployments (each deployed twice, so two
// ReplicaSets, replicas 0 so no Pods) and ConfigMaps/Secrets of a few KB, written by the admin
// over 16 parallel connections. A third of the ConfigMaps/Secrets and half of the Deployments
// carry kubectl's last-applied-configuration, as objects kept with `kubectl apply` do. Each
// Deployment carries the stamps rollguard's webhook writes at each deploy (which its ReplicaSets
// copy, as in a cluster where rollguard runs); the benchmark writes them itself, no webhook runs.

export const NAMESPACES = Array.from({ length: 40 }, (_, i) => `bench-team-${String(i).padStart(2, '0')}`);
const SET_LABEL = 'bench.rollguard.io/set';
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const CONCURRENCY = 16;

export class BulkWriter {
  private readonly pool: Pool;
  private readonly auth: string;

  constructor(facts: ControlPlaneFacts) {
    this.pool = new Pool(facts.apiserverUrl, { connections: CONCURRENCY, connect: { ca: readFileSync(facts.caFile, 'utf8') } });
    this.auth = `Bearer ${facts.adminToken}`;
  }

  async send<T>(method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown, contentType = 'application/json', accept = 'application/json'): Promise<T> {
    const res = await this.pool.request({
      path,
      method,
      headers: { authorization: this.auth, accept, ...(body === undefined ? {} : { 'content-type': contentType }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${path}: HTTP ${String(res.statusCode)}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }

  /** Runs `fn` over `items` with at most CONCURRENCY in flight. */
  async each<T>(items: readonly T[], fn: (item: T) => Promise<unknown>): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const item = items[next++] as T;
        await fn(item);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

type Manifest = Record<string, unknown> & { metadata: { name: string; namespace: string; labels: Record<string, string>; annotations?: Record<string, string> } };

function withLastApplied(obj: Manifest): Manifest {
  obj.metadata.annotations = { ...obj.metadata.annotations, [LAST_APPLIED]: JSON.stringify(obj) };
  return obj;
}

function deployment(ns: string, name: string, set: string): Manifest {
  const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': `${name}-prod`, 'app.kubernetes.io/part-of': ns, 'app.kubernetes.io/managed-by': 'ci', team: ns, [SET_LABEL]: set };
  const env = Array.from({ length: 10 }, (_, i) => ({ name: `SETTING_${String(i)}`, value: `value-${String(i)}-${name}` }));
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels, annotations: { 'app.example.com/owner': `${ns}@example.com` } },
    spec: {
      replicas: 0,
      selector: { matchLabels: { 'app.kubernetes.io/name': name } },
      template: {
        metadata: { labels, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090' } },
        spec: {
          serviceAccountName: 'default',
          securityContext: { runAsNonRoot: true, runAsUser: 10001 },
          containers: [
            {
              name: 'app',
              image: `registry.example/${ns}/${name}:1.0.0`,
              ports: [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }],
              env: [...env, { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: `${name}-db`, key: 'password' } } }],
              envFrom: [{ configMapRef: { name: `${name}-config` } }],
              resources: { limits: { cpu: '1', memory: '512Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
              readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 5, failureThreshold: 3 },
              livenessProbe: { httpGet: { path: '/live', port: 8080 }, initialDelaySeconds: 10, periodSeconds: 10 },
              volumeMounts: [{ name: 'config', mountPath: '/etc/app' }, { name: 'tls', mountPath: '/etc/tls', readOnly: true }],
            },
          ],
          volumes: [{ name: 'config', configMap: { name: `${name}-config` } }, { name: 'tls', secret: { secretName: `${name}-tls` } }],
        },
      },
    },
  };
}

function configFile(random: () => number, bytes: number): string {
  const lines: string[] = [];
  for (let n = 0, size = 0; size < bytes; n++) {
    const line = `setting.${String(n)}.${Math.floor(random() * 1e6).toString(36)}: ${Math.floor(random() * 1e12).toString(36)}`;
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join('\n');
}

function configMap(ns: string, name: string, set: string, random: () => number): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: ns, labels: { 'app.kubernetes.io/part-of': ns, [SET_LABEL]: set } },
    data: { 'application.yaml': configFile(random, 1000 + Math.floor(random() * 5000)), 'log-level': 'info' },
  };
}

function secret(ns: string, name: string, set: string, random: () => number): Manifest {
  const data: Record<string, string> = { password: randomBytes(24).toString('base64') };
  if (random() < 0.5) data['tls.crt'] = randomBytes(1200 + Math.floor(random() * 800)).toString('base64');
  return { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name, namespace: ns, labels: { 'app.kubernetes.io/part-of': ns, [SET_LABEL]: set } }, data };
}

const SELECT = (set: string) => `labelSelector=${encodeURIComponent(`${SET_LABEL}=${set}`)}`;
export const META_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';

/** Polls the set's Deployments (metadata only) until every one is at `revision`. */
async function waitForRevision(w: BulkWriter, set: string, count: number, revision: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await w.send<{ items: { metadata: { annotations?: Record<string, string> } }[] }>('GET', `/apis/apps/v1/deployments?${SELECT(set)}`, undefined, undefined, META_LIST);
    const at = list.items.filter((d) => d.metadata.annotations?.['deployment.kubernetes.io/revision'] === revision).length;
    if (at >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${String(at)} of ${String(count)} Deployments of set ${set} reached revision ${revision}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function ensureNamespaces(w: BulkWriter, names: readonly string[]): Promise<void> {
  await w.each(names, (name) => w.send('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }).catch((err: unknown) => {
    if (!String(err).includes('HTTP 409')) throw err;
  }));
}

/** The stamps the webhook writes on a deploy of `template` at `at` after `history` (a clean, eligible pod-spec change). */
function deployStamps(template: unknown, at: number, history: readonly TemplateHistoryEntry[]): { stamps: Record<string, string>; history: TemplateHistoryEntry[] } {
  const hash = templateHash(template as PodTemplateSpec);
  const next = [{ hash, at }, ...history];
  const stamps = {
    [ANNOTATIONS.templateChangedAt.key]: formatInstant(at),
    [ANNOTATIONS.templateHash.key]: hash,
    [ANNOTATIONS.templateHistory.key]: formatTemplateHistory(next),
    [ANNOTATIONS.changeSet.key]: 'pod-spec-only',
    [ANNOTATIONS.changeSetReasons.key]: '[]',
    [ANNOTATIONS.eligibility.key]: 'eligible',
    [ANNOTATIONS.eligibilityReasons.key]: '[]',
  };
  return { stamps, history: next };
}

/**
 * `count` Deployments of set `set` across NAMESPACES, each deployed `revisions` times (that many
 * ReplicaSets, up to the default revisionHistoryLimit's 11), stamped as the webhook stamps each deploy.
 */
export async function addDeployments(w: BulkWriter, set: string, count: number, revisions = 2): Promise<void> {
  const items = Array.from({ length: count }, (_, i) => ({ ns: NAMESPACES[i % NAMESPACES.length] ?? 'default', name: `${set}-svc-${String(i)}`, applied: i % 2 === 0 }));
  type Stored = { spec: { template: { spec: { containers: { image: string }[] } } } };
  const deployed = new Map<string, { template: Stored['spec']['template']; history: TemplateHistoryEntry[] }>();
  const firstAt = Date.now() - 3_600_000;
  const path = (ns: string, name: string) => `/apis/apps/v1/namespaces/${ns}/deployments/${name}`;
  await w.each(items, async ({ ns, name, applied }) => {
    const d = deployment(ns, name, set);
    const created = await w.send<Stored>('POST', `/apis/apps/v1/namespaces/${ns}/deployments${applied ? '?fieldManager=kubectl-client-side-apply' : ''}`, applied ? withLastApplied(d) : d);
    // Hashed as stored (with the apiserver's defaults), as the webhook hashes what it admits.
    const first = deployStamps(created.spec.template, firstAt, []);
    deployed.set(name, { template: created.spec.template, history: first.history });
    await w.send('PATCH', path(ns, name), { metadata: { annotations: first.stamps } }, 'application/merge-patch+json');
  });
  // The controller must have made revision 1's ReplicaSet before the template changes, or it only makes one.
  await waitForRevision(w, set, count, '1', 180_000);
  for (let revision = 2; revision <= revisions; revision++) {
    await w.each(items, ({ ns, name }) => {
      const image = `registry.example/${ns}/${name}:1.${String(revision - 1)}.0`;
      const before = deployed.get(name);
      const template = structuredClone(before?.template);
      for (const c of template?.spec.containers ?? []) c.image = image;
      const next = deployStamps(template, firstAt + ((revision - 1) * 1_800_000) / (revisions - 1), before?.history ?? []);
      if (template !== undefined) deployed.set(name, { template, history: next.history });
      return w.send('PATCH', path(ns, name), { metadata: { annotations: next.stamps }, spec: { template: { spec: { containers: [{ name: 'app', image }] } } } }, 'application/strategic-merge-patch+json');
    });
    // Each revision's ReplicaSet exists before the next template change, or the controller skips it.
    await waitForRevision(w, set, count, String(revision), 180_000);
  }
}

/** `count` ConfigMaps (60%) and Secrets (40%) of set `set` across NAMESPACES. */
export async function addConfig(w: BulkWriter, set: string, count: number, seed: number): Promise<void> {
  const random = rng(seed);
  const items = Array.from({ length: count }, (_, i) => ({ ns: NAMESPACES[i % NAMESPACES.length] ?? 'default', i }));
  await w.each(items, ({ ns, i }) => {
    const isSecret = i % 5 >= 3;
    const name = `${set}-${isSecret ? 'secret' : 'config'}-${String(i)}`;
    const obj = isSecret ? secret(ns, name, set, random) : configMap(ns, name, set, random);
    const applied = i % 3 === 0;
    return w.send('POST', `/api/v1/namespaces/${ns}/${isSecret ? 'secrets' : 'configmaps'}${applied ? '?fieldManager=kubectl-client-side-apply' : ''}`, applied ? withLastApplied(obj) : obj);
  });
}
