import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

// A loopback TCP relay that can be shut: the agents reach Prometheus through it, and "Prometheus down"
// closes its port (connections refused) while Prometheus itself keeps scraping, so the history is
// whole when it comes back.

export class TcpGate {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  private constructor(private readonly target: { host: string; port: number }) {}

  static async start(targetUrl: string): Promise<TcpGate> {
    const u = new URL(targetUrl);
    const gate = new TcpGate({ host: u.hostname, port: Number(u.port) });
    await gate.open();
    return gate;
  }

  url(): string {
    return `http://127.0.0.1:${String(this.port)}`;
  }

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.once('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (typeof address === 'object' && address !== null) this.port = address.port;
    this.server = server;
  }

  async shut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    const closed = new Promise((r) => server.close(r));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  isShut(): boolean {
    return this.server === undefined;
  }
}
