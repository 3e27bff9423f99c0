import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { freePort, httpOk, startProcess } from '../test/support/process.js';
import { podMountPossible, POD_WRAPPER, procSample } from './agent-process.js';
import { imageEnv } from './image-bundle.js';

// The webhook's RSS with its stamp cache filled: `rollguard webhook` as a Pod runs it (the image's
// bundle, the chart's NODE_OPTIONS, a service-account mount) lists and watches the ConfigMaps and Secrets of an API server of this bench's
// own (HTTPS, metadata-only lists paged by limit/continue as the apiserver pages them, watches held
// open), holding N objects shaped as the apiserver serves them (labels, kubectl's
// last-applied-configuration, two managedFields entries, stamps on half). Tiers from an empty
// cluster up; RSS as it runs (no forced GC), the per-object slope fitted over the tiers.

const ROOT = join(import.meta.dirname, '..');
const NAMESPACES = 50;

function metadataOf(kind: 'ConfigMap' | 'Secret', n: number, rv: number): Record<string, unknown> {
  const name = `${kind === 'ConfigMap' ? 'config' : 'secret'}-${String(n).padStart(6, '0')}-7f9c4b`;
  const namespace = `team-${String(n % NAMESPACES)}`;
  const at = new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString().replace('.000Z', 'Z');
  const annotations: Record<string, string> = {
    'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ apiVersion: 'v1', kind, metadata: { name, namespace, labels: { app: name.slice(0, 12) } }, data: { 'settings.yaml': 'x'.repeat(200) } }),
  };
  if (n % 2 === 0) {
    annotations['rollguard.io/created-at'] = at;
    annotations['rollguard.io/content-changed-at'] = at;
  }
  return {
    name,
    namespace,
    uid: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    resourceVersion: String(rv),
    creationTimestamp: at,
    labels: { app: name.slice(0, 12), 'app.kubernetes.io/managed-by': 'kubectl' },
    annotations,
    managedFields: [
      { manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'v1', time: at, fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { '.': {}, 'f:settings.yaml': {} }, 'f:metadata': { 'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} }, 'f:labels': { '.': {}, 'f:app': {} } } } },
      { manager: 'rollguard', operation: 'Update', apiVersion: 'v1', time: at, fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:rollguard.io/content-changed-at': {}, 'f:rollguard.io/created-at': {} } } } },
    ],
  };
}

interface FakeApi {
  port: number;
  setObjects(count: number): void;
  close(): Promise<void>;
}

/** ConfigMaps and Secrets, half each, as PartialObjectMetadataList pages; watches stay open and silent. */
async function startFakeApi(tls: { cert: string; key: string }): Promise<FakeApi> {
  let perKind = 0;
  const server: Server = createServer(tls, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const kind = url.pathname === '/api/v1/configmaps' ? 'ConfigMap' : url.pathname === '/api/v1/secrets' ? 'Secret' : undefined;
    if (kind === undefined) {
      res.writeHead(url.pathname === '/version' ? 200 : 404, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      return;
    }
    const limit = Number(url.searchParams.get('limit') ?? perKind) || perKind;
    const from = Number(url.searchParams.get('continue') ?? 0);
    const to = Math.min(perKind, from + limit);
    const items = [];
    for (let n = from; n < to; n++) items.push({ apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: metadataOf(kind, n, 1000 + n) });
    const metadata = { resourceVersion: String(1000 + perKind), ...(to < perKind ? { continue: String(to), remainingItemCount: perKind - to } : {}) };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadataList', metadata, items }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    setObjects(count) {
      perKind = Math.floor(count / 2);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

export interface FootprintTier {
  objects: number;
  rssMb: number;
  syncS: number;
}

export interface Footprint {
  tiers: FootprintTier[];
  /** MB per 1,000 objects, least squares over the tiers. */
  slopeMbPerK: number;
  interceptMb: number;
  how: string;
}

function fit(points: readonly FootprintTier[]): { slope: number; intercept: number } {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.objects, 0) / n;
  const my = points.reduce((s, p) => s + p.rssMb, 0) / n;
  const sxy = points.reduce((s, p) => s + (p.objects - mx) * (p.rssMb - my), 0);
  const sxx = points.reduce((s, p) => s + (p.objects - mx) ** 2, 0);
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope: slope * 1000, intercept: my - slope * mx };
}

/** Starts a webhook per tier against the fake API server and samples its RSS once synced. */
export async function measureWebhookFootprint(tls: { cert: string; key: string; ca: string; servingCert: string; servingKey: string }, tiers: readonly number[], run: { main: string; nodeOptions: string }): Promise<Footprint> {
  const api = await startFakeApi({ cert: tls.cert, key: tls.key });
  const pod = podMountPossible();
  const results: FootprintTier[] = [];
  try {
    for (const objects of tiers) {
      api.setObjects(objects);
      const [port, healthPort] = [await freePort(), await freePort()];
      const webhook = [run.main, 'webhook', '--host', '127.0.0.1', '--port', String(port), '--health-port', String(healthPort), '--tls-cert', tls.servingCert, '--tls-key', tls.servingKey, '--namespace', 'rollguard', '--log-level', 'warn'];
      const env: NodeJS.ProcessEnv = { ...process.env, ...imageEnv(), NODE_OPTIONS: run.nodeOptions };
      let command = process.execPath;
      let args: string[];
      if (pod) {
        Object.assign(env, { KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(api.port), ROLLGUARD_POD_CA: tls.ca, ROLLGUARD_POD_TOKEN: 'bench-token', ROLLGUARD_POD_NAMESPACE: 'rollguard' });
        command = 'unshare';
        args = ['-m', 'sh', '-c', POD_WRAPPER, 'sh', process.execPath, ...webhook];
      } else {
        throw new Error('the stamp-cache footprint needs a private mount namespace (unshare -m, as root) to give the webhook a Pod\'s service-account mount');
      }
      const t0 = performance.now();
      const proc = await startProcess({ name: 'rollguard webhook', command, args, cwd: ROOT, env, ready: () => httpOk(`http://127.0.0.1:${String(healthPort)}/readyz`), timeoutMs: 180_000 });
      try {
        const syncS = (performance.now() - t0) / 1000;
        // As it runs: the median of a few samples over two seconds after sync.
        const samples: number[] = [];
        for (let i = 0; i < 8; i++) {
          await new Promise((r) => setTimeout(r, 250));
          samples.push(procSample(proc.pid).rssMb);
        }
        samples.sort((a, b) => a - b);
        results.push({ objects, rssMb: samples[Math.floor(samples.length / 2)] ?? Number.NaN, syncS });
      } finally {
        await proc.stop();
      }
    }
  } finally {
    await api.close();
  }
  const { slope, intercept } = fit(results);
  return { tiers: results, slopeMbPerK: slope, interceptMb: intercept, how: `the image's bundle as a Pod runs it (service-account mount in a private mount namespace, NODE_OPTIONS="${run.nodeOptions}")` };
}
