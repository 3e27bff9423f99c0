import { once } from 'node:events';
import { createServer as createHttpsServer, request as httpsRequest, Agent as HttpsAgent, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

// The test's own loopback proxy between each agent replica and the kube-apiserver (issue 17, part 5).
// It terminates TLS with a certificate of its own, so it sees every request: it records them (the
// invariants are checked on that record) and injects the faults of a schedule: the apiserver away
// (the port closed: connections refused), 2–8 s of latency, connection resets, watches ended with
// 410 Gone as the apiserver ends them, and a hook on the rollback patch (to kill the leader between
// its read and its write). One listener per replica slot, so every request is attributed.

export interface ProxiedRequest {
  /** The replica's identity when the request arrived. */
  identity: string;
  at: number;
  method: string;
  /** Path without the query. */
  path: string;
  watch: boolean;
  status?: number;
  /** What the proxy did to it, if anything. */
  injected?: 'gone' | 'reset' | 'held';
  /** Set on a rollback patch (JSON patch writing rollguard's rolled-back-by). */
  rollback?: boolean;
}

export type RollbackHook = (identity: string) => 'forward' | 'kill-before' | 'kill-after';

export interface FaultProxyOptions {
  upstream: string;
  upstreamCa: string;
  cert: string;
  key: string;
  slots: readonly string[];
  /** Uniform in [0, 1), seeded: latency and reset draws. */
  random: () => number;
}

interface Slot {
  name: string;
  identity: string;
  port: number;
  server: Server;
  sockets: Set<Socket>;
}

const GONE = `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version (injected by the fault proxy)', reason: 'Expired', code: 410 } })}\n`;

export class FaultProxy {
  readonly log: ProxiedRequest[] = [];
  private readonly slots = new Map<string, Slot>();
  private readonly watches = new Set<{ res: ServerResponse; up: IncomingMessage; record: ProxiedRequest }>();
  private readonly upstreamAgent: HttpsAgent;
  private latency: { until: number; minMs: number; maxMs: number } | undefined;
  private resets: { until: number; p: number } | undefined;
  private down = false;
  onRollback: RollbackHook = () => 'forward';
  /** Called by the hook's kill: the proxy asks the harness to SIGKILL that replica. */
  kill: (identity: string) => void = () => undefined;

  private constructor(private readonly opts: FaultProxyOptions) {
    this.upstreamAgent = new HttpsAgent({ keepAlive: true, ca: opts.upstreamCa });
  }

  static async start(opts: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy(opts);
    for (const name of opts.slots) await proxy.open(name, 0);
    return proxy;
  }

  url(slot: string): string {
    return `https://127.0.0.1:${String(this.slot(slot).port)}`;
  }

  /** The identity the next requests on this slot are recorded under (a restarted replica's new one). */
  setIdentity(slot: string, identity: string): void {
    this.slot(slot).identity = identity;
  }

  private slot(name: string): Slot {
    const s = this.slots.get(name);
    if (s === undefined) throw new Error(`no proxy slot ${name}`);
    return s;
  }

  private async open(name: string, port: number): Promise<void> {
    const sockets = new Set<Socket>();
    const server = createHttpsServer({ cert: this.opts.cert, key: this.opts.key }, (req, res) => {
      void this.handle(name, req, res);
    });
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    server.on('tlsClientError', () => undefined);
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    const bound = typeof address === 'object' && address !== null ? address.port : port;
    const before = this.slots.get(name);
    this.slots.set(name, { name, identity: before?.identity ?? name, port: bound, server, sockets });
  }

  /** The apiserver goes away: every port closed (connections refused), every open connection cut. */
  async stopUpstream(): Promise<void> {
    this.down = true;
    for (const s of this.slots.values()) {
      const closed = new Promise((r) => s.server.close(r));
      for (const socket of s.sockets) socket.destroy();
      await closed;
    }
    this.watches.clear();
  }

  /** ... and comes back on the same ports. */
  async startUpstream(): Promise<void> {
    for (const s of [...this.slots.values()]) await this.open(s.name, s.port);
    this.down = false;
  }

  isDown(): boolean {
    return this.down;
  }

  delayFor(durationMs: number, minMs = 2000, maxMs = 8000): void {
    this.latency = { until: Date.now() + durationMs, minMs, maxMs };
  }

  resetFor(durationMs: number, p = 0.3): void {
    this.resets = { until: Date.now() + durationMs, p };
  }

  /** Ends every open watch the way the apiserver does when its history is gone; resolves to how many. */
  endWatchesWithGone(): number {
    let n = 0;
    for (const w of [...this.watches]) {
      this.watches.delete(w);
      w.record.injected = 'gone';
      const at = Date.now();
      this.log.push({ identity: w.record.identity, at, method: 'GONE', path: w.record.path, watch: true, injected: 'gone' });
      w.up.unpipe(w.res);
      w.up.destroy();
      w.res.end(GONE);
      n++;
    }
    return n;
  }

  async close(): Promise<void> {
    for (const s of this.slots.values()) {
      const closed = new Promise((r) => s.server.close(r));
      for (const socket of s.sockets) socket.destroy();
      await closed;
    }
    this.upstreamAgent.destroy();
  }

  private async handle(slotName: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const slot = this.slot(slotName);
    const url = new URL(req.url ?? '/', 'https://proxy');
    const record: ProxiedRequest = { identity: slot.identity, at: Date.now(), method: req.method ?? 'GET', path: url.pathname, watch: url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1' };
    this.log.push(record);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const now = Date.now();
    if (this.latency !== undefined && now < this.latency.until) {
      const { minMs, maxMs } = this.latency;
      await new Promise((r) => setTimeout(r, minMs + this.opts.random() * (maxMs - minMs)));
    }
    if (this.resets !== undefined && now < this.resets.until && this.opts.random() < this.resets.p) {
      record.injected = 'reset';
      // Before or while answering, as a flaky network does.
      if (this.opts.random() < 0.5 || !record.watch) {
        req.socket.destroy();
        return;
      }
      setTimeout(() => req.socket.destroy(), this.opts.random() * 3000);
    }
    const rollback = record.method === 'PATCH' && /\/deployments\/[^/]+$/.test(record.path) && body.toString('utf8').includes('rolled-back-by');
    let hook: ReturnType<RollbackHook> = 'forward';
    if (rollback) {
      record.rollback = true;
      hook = this.onRollback(record.identity);
      if (hook === 'kill-before') {
        record.injected = 'held';
        this.kill(record.identity);
        req.socket.destroy();
        return;
      }
    }
    this.forward(req, res, body, record, hook === 'kill-after');
  }

  private forward(req: IncomingMessage, res: ServerResponse, body: Buffer, record: ProxiedRequest, killAfter: boolean): void {
    const upstream = new URL(req.url ?? '/', this.opts.upstream);
    const headers = { ...req.headers, host: upstream.host };
    const out = httpsRequest(upstream, { method: req.method, headers, agent: this.upstreamAgent }, (up) => {
      record.status = up.statusCode;
      if (killAfter) {
        // The patch landed; the leader dies before it learns so.
        record.injected = 'held';
        up.resume();
        this.kill(record.identity);
        req.socket.destroy();
        return;
      }
      res.writeHead(up.statusCode ?? 502, up.headers);
      // A watch's headers come before any event: the client waits on them.
      res.flushHeaders();
      if (record.watch && up.statusCode === 200) {
        const entry = { res, up, record };
        this.watches.add(entry);
        res.once('close', () => this.watches.delete(entry));
      }
      up.pipe(res);
      res.once('close', () => up.destroy());
      // The apiserver process gone mid-answer (a watch open when it is killed): cut the client's
      // connection as the kernel would have, or its watch would hang on a proxy that stays up.
      up.once('close', () => {
        if (!up.complete) req.socket.destroy();
      });
    });
    // An apiserver that is not there (a real restart behind the proxy): the client sees its connection cut.
    out.on('error', () => req.socket.destroy());
    out.end(body);
  }
}
