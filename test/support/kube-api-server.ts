import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

// A small Kubernetes API server for tests, faithful to the parts of the protocol rollguard's
// clients use, so the real @kubernetes/client-node is exercised:
// - GET /api/v1/{resource} and /api/v1/namespaces/{ns}/{resource}: a list with
//   metadata.resourceVersion; `Accept: ...;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1` gets
//   metadata only, as from a real apiserver.
// - `?watch=true|1&resourceVersion=N`: a stream of JSON lines {type: ADDED|MODIFIED|DELETED, object}
//   for every change after N; a resourceVersion older than the retained history gets an ERROR
//   event with a 410 Expired Status (or, with `gone: 'http'`, an HTTP 410), as the apiserver does.
// - GET /api/v1/namespaces/{ns}/{resource}/{name}: one object, 404 Status when absent.
// Objects change through the methods below (the test plays the cluster), never over HTTP.

export interface KubeObj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion?: string; uid?: string; creationTimestamp?: string; annotations?: Record<string, string>; labels?: Record<string, string>; managedFields?: { manager?: string; operation?: string; time?: string }[] };
  [field: string]: unknown;
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface StoredEvent {
  rv: number;
  resource: string;
  type: EventType;
  object: KubeObj;
}

interface Watcher {
  resource: string;
  namespace: string | undefined;
  partial: boolean;
  res: ServerResponse;
}

const KINDS: Record<string, string> = { configmaps: 'ConfigMap', secrets: 'Secret' };

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
}

export class KubeApiServer {
  private readonly server: Server;
  private readonly objects = new Map<string, KubeObj>();
  private history: StoredEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private rv = 100;
  /** Events at or below this resourceVersion are gone: a watch from before it gets 410. */
  private compactedAt = 0;
  /** Every request's method, path+query and Accept header, for assertions. */
  readonly requests: { method: string; url: string; accept: string; at: number }[] = [];
  /** The requests that arrived while the server was down (their connections reset). */
  readonly refused: { method: string; url: string; accept: string; at: number }[] = [];
  /** Misbehave: ignore the metadata-only Accept on every request or on watches only (F3 defence tests). */
  ignorePartialAccept: false | 'all' | 'watch' = false;
  gone: 'event' | 'http' = 'event';
  /** While true the server is "down": open watches are cut and every request's connection is reset. */
  private down = false;
  port = 0;

  constructor() {
    this.server = createServer((req, res) => {
      this.handle(req, res);
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${String(this.port)}`;
  }

  async stop(): Promise<void> {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
      this.server.closeAllConnections();
    });
  }

  private key(resource: string, namespace: string, name: string): string {
    return `${resource}/${namespace}/${name}`;
  }

  private record(resource: string, type: EventType, object: KubeObj): KubeObj {
    const stored = structuredClone(object);
    this.history.push({ rv: this.rv, resource, type, object: stored });
    for (const w of this.watchers) {
      if (w.resource === resource && (w.namespace === undefined || w.namespace === stored.metadata.namespace)) {
        w.res.write(`${JSON.stringify({ type, object: this.view(stored, w.partial) })}\n`);
      }
    }
    return structuredClone(stored);
  }

  create(resource: string, object: { apiVersion?: string; kind?: string; metadata: KubeObj['metadata']; [field: string]: unknown }): KubeObj {
    const key = this.key(resource, object.metadata.namespace, object.metadata.name);
    if (this.objects.has(key)) throw new Error(`${key} already exists`);
    this.rv++;
    const stored: KubeObj = {
      apiVersion: 'v1',
      kind: KINDS[resource] ?? 'Unknown',
      ...structuredClone(object),
      metadata: { ...structuredClone(object.metadata), resourceVersion: String(this.rv), uid: `uid-${String(this.rv)}`, creationTimestamp: new Date(0).toISOString() },
    };
    this.objects.set(key, stored);
    return this.record(resource, 'ADDED', stored);
  }

  update(resource: string, namespace: string, name: string, change: (obj: KubeObj) => void): KubeObj {
    const key = this.key(resource, namespace, name);
    const current = this.objects.get(key);
    if (current === undefined) throw new Error(`${key} not found`);
    const next = structuredClone(current);
    change(next);
    this.rv++;
    next.metadata.resourceVersion = String(this.rv);
    this.objects.set(key, next);
    return this.record(resource, 'MODIFIED', next);
  }

  delete(resource: string, namespace: string, name: string): void {
    const key = this.key(resource, namespace, name);
    const current = this.objects.get(key);
    if (current === undefined) throw new Error(`${key} not found`);
    this.objects.delete(key);
    this.rv++;
    this.record(resource, 'DELETED', { ...current, metadata: { ...current.metadata, resourceVersion: String(this.rv) } });
  }

  /** Forgets the event history, as etcd compaction does: older watches get 410 Gone. */
  compact(): void {
    this.compactedAt = this.rv;
    this.history = [];
  }

  /** Ends every open watch stream (as the apiserver does at its watch timeout). */
  closeWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  /** Ends every open watch with a 410 Gone ERROR event, as the apiserver does when the history it serves from is gone. */
  expireWatches(): void {
    for (const w of this.watchers) w.res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version', reason: 'Expired', code: 410 } })}\n`);
    this.watchers.clear();
  }

  /** Takes the server down (watches cut, connections reset, as a killed apiserver) or brings it back. */
  setDown(down: boolean): void {
    this.down = down;
    if (!down) return;
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
  }

  openWatches(): number {
    return this.watchers.size;
  }

  private view(obj: KubeObj, partial: boolean): unknown {
    if (!partial) return obj;
    return { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: obj.metadata };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const accept = req.headers.accept ?? '';
    const seen = { method: req.method ?? '', url: `${url.pathname}${url.search}`, accept, at: Date.now() };
    if (this.down) {
      this.refused.push(seen);
      req.socket.destroy();
      return;
    }
    this.requests.push(seen);
    if (req.method !== 'GET') {
      status(res, 405, 'MethodNotAllowed', `${req.method ?? ''} is not supported by the test API server`);
      return;
    }
    if (url.pathname === '/version') {
      this.json(res, { major: '1', minor: '20', gitVersion: 'v1.20.0-test' });
      return;
    }
    const m = /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?([a-z]+)(?:\/([^/]+))?$/.exec(url.pathname);
    const resource = m?.[2];
    if (m === null || resource === undefined || KINDS[resource] === undefined) {
      status(res, 404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
      return;
    }
    const namespace = m[1];
    const name = m[3];
    const watch = url.searchParams.get('watch');
    const isWatch = watch === 'true' || watch === '1';
    const ignored = this.ignorePartialAccept === 'all' || (this.ignorePartialAccept === 'watch' && isWatch);
    const wantsPartial = !ignored && /as=PartialObjectMetadata(List)?;g=meta\.k8s\.io;v=v1/.test(accept);
    if (name !== undefined) {
      const obj = this.objects.get(this.key(resource, namespace ?? '', name));
      if (obj === undefined) status(res, 404, 'NotFound', `${resource} "${name}" not found`);
      else this.json(res, this.view(obj, wantsPartial));
      return;
    }
    if (isWatch) this.watch(resource, namespace, url.searchParams.get('resourceVersion'), wantsPartial, res);
    else this.list(resource, namespace, wantsPartial, res);
  }

  private json(res: ServerResponse, body: unknown): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private list(resource: string, namespace: string | undefined, partial: boolean, res: ServerResponse): void {
    const items = [...this.objects.entries()]
      .filter(([k, o]) => k.startsWith(`${resource}/`) && (namespace === undefined || o.metadata.namespace === namespace))
      .map(([, o]) => this.view(o, partial));
    const kind = partial ? 'PartialObjectMetadataList' : `${KINDS[resource] ?? ''}List`;
    this.json(res, { apiVersion: partial ? 'meta.k8s.io/v1' : 'v1', kind, metadata: { resourceVersion: String(this.rv) }, items });
  }

  private watch(resource: string, namespace: string | undefined, fromText: string | null, partial: boolean, res: ServerResponse): void {
    const from = fromText === null || fromText === '' || fromText === '0' ? this.rv : Number(fromText);
    if (!Number.isInteger(from) || from < this.compactedAt) {
      const message = `too old resource version: ${fromText ?? ''} (${String(this.compactedAt)})`;
      if (this.gone === 'http') {
        status(res, 410, 'Expired', message);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Expired', code: 410 } })}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const watcher: Watcher = { resource, namespace, partial, res };
    for (const e of this.history) {
      if (e.rv > from && e.resource === resource && (namespace === undefined || e.object.metadata.namespace === namespace)) {
        res.write(`${JSON.stringify({ type: e.type, object: this.view(e.object, partial) })}\n`);
      }
    }
    this.watchers.add(watcher);
    res.on('close', () => this.watchers.delete(watcher));
  }
}

/** A kubeconfig for the test API server (plain HTTP, a dummy token). */
export function testApiKubeConfig(server: KubeApiServer): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'test', server: server.url, skipTLSVerify: true }],
    users: [{ name: 'test', token: 'test-token' }],
    contexts: [{ name: 'test', cluster: 'test', user: 'test' }],
    currentContext: 'test',
  });
  return kc;
}

/** Waits (polling every 10 ms) for a condition a client reaches asynchronously; no timing is asserted. */
export async function until(what: string, cond: () => boolean, tries = 1000): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting until ${what}`);
}
