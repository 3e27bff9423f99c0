import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { blockKitProblems } from './block-kit.js';

// A stand-in for Slack on 127.0.0.1 that refuses what the real one refuses, for the calls rollguard
// makes: chat.postMessage and chat.update (Bearer token, JSON body, a known channel, valid Block
// Kit, for updates the ts of a message in that channel; Slack's error codes with HTTP 200),
// users.lookupByEmail (a form body, the users:read.email scope, users_not_found) and an
// incoming webhook (its secret path, JSON, "ok" or an error word with a 4xx). It can answer 429
// with Retry-After, or 5xx, for the next requests, and hold its answers back (a slow Slack).

export interface SlackRequest {
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: Record<string, unknown> | undefined;
  at: number;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  text: unknown;
  blocks: unknown;
  /** Every version, first the posted one. */
  versions: { text: unknown; blocks: unknown }[];
}

export interface FakeSlackOptions {
  token: string;
  /** Channel names (with #) and ids the bot may post to; names resolve to `C` + upper-case name. */
  channels?: string[];
  /** The secret part of the incoming-webhook path: /services/T0/B0/<this>. */
  webhookSecret?: string;
  /** Workspace members: email → user id, for users.lookupByEmail. */
  users?: Record<string, string>;
  /** The bot token's scopes (default: chat:write and users:read.email). */
  scopes?: string[];
}

export class FakeSlack {
  readonly requests: SlackRequest[] = [];
  readonly messages = new Map<string, StoredMessage>();
  /** Incoming-webhook posts that were accepted. */
  readonly webhookPosts: { text: unknown; blocks: unknown }[] = [];
  private readonly server: Server;
  private next: { status: number; retryAfter?: string }[] = [];
  private held: Promise<void> | undefined;
  private seq = 0;
  port = 0;

  constructor(private readonly opts: FakeSlackOptions) {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get apiBase(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  get webhookUrl(): string {
    return `http://127.0.0.1:${this.port}/services/T0/B0/${this.opts.webhookSecret ?? 'none'}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
      this.server.closeAllConnections();
    });
  }

  /** The next `count` requests get this status (429 with Retry-After seconds, or a 5xx). */
  failNext(count: number, status: number, retryAfter?: string): void {
    for (let i = 0; i < count; i++) this.next.push(retryAfter === undefined ? { status } : { status, retryAfter });
  }

  /** Requests are recorded as they come but answered only once the returned function is called. */
  holdReplies(): () => void {
    let release = (): void => undefined;
    this.held = new Promise((resolve) => {
      release = resolve;
    });
    return () => {
      this.held = undefined;
      release();
    };
  }

  calls(method: string): SlackRequest[] {
    return this.requests.filter((r) => r.path === `/api/${method}`);
  }

  private channelId(channel: unknown): string | undefined {
    if (typeof channel !== 'string') return undefined;
    const allowed = this.opts.channels ?? ['#deploys'];
    if (!allowed.includes(channel)) return undefined;
    return channel.startsWith('#') ? `C${channel.slice(1).toUpperCase().replace(/[^A-Z0-9]/g, '')}` : channel;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    let body: Record<string, unknown> | undefined;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      body = undefined;
    }
    this.requests.push({ path, authorization: req.headers.authorization, contentType: req.headers['content-type'], body, at: Date.now() });
    if (this.held !== undefined) await this.held;
    const injected = this.next.shift();
    if (injected !== undefined) {
      res.writeHead(injected.status, { 'content-type': 'application/json', ...(injected.retryAfter === undefined ? {} : { 'retry-after': injected.retryAfter }) });
      res.end(JSON.stringify({ ok: false, error: injected.status === 429 ? 'ratelimited' : 'internal_error' }));
      return;
    }
    if (req.method !== 'POST') {
      this.reply(res, 405, { ok: false, error: 'method_not_allowed' });
      return;
    }
    if (path.startsWith('/services/')) {
      const [status, word] = this.incomingWebhook(path, req, body);
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(word);
      return;
    }
    if (path === '/api/auth.test') this.reply(res, 200, this.authTest(req));
    else if (path === '/api/users.lookupByEmail') this.reply(res, 200, this.lookupByEmail(req, raw));
    else if (path === '/api/chat.postMessage' || path === '/api/chat.update') this.reply(res, 200, this.webApi(path, req, body));
    else this.reply(res, 404, { ok: false, error: 'unknown_method' });
  }

  private reply(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  }

  /** The Web API answers HTTP 200 with ok: false and an error code for almost everything. */
  private webApi(path: string, req: IncomingMessage, body: Record<string, unknown> | undefined): Record<string, unknown> {
    const fail = (error: string, extra: Record<string, unknown> = {}) => ({ ok: false, error, ...extra });
    const auth = req.headers.authorization;
    if (auth === undefined) return fail('not_authed');
    if (auth !== `Bearer ${this.opts.token}`) return fail('invalid_auth');
    if (!/^application\/json(;\s*charset=utf-8)?$/i.test(req.headers['content-type'] ?? '')) return fail('invalid_arguments');
    if (body === undefined) return fail('invalid_json');
    if (body.text === undefined && body.blocks === undefined) return fail('no_text');
    if (body.blocks !== undefined) {
      const problems = blockKitProblems(body.blocks);
      if (problems.length > 0) return fail('invalid_blocks', { response_metadata: { messages: problems } });
    }
    if (path === '/api/chat.postMessage') {
      const channel = this.channelId(body.channel);
      if (channel === undefined) return fail('channel_not_found');
      this.seq++;
      const ts = `1700000000.${String(this.seq).padStart(6, '0')}`;
      this.messages.set(`${channel}/${ts}`, { channel, ts, text: body.text, blocks: body.blocks, versions: [{ text: body.text, blocks: body.blocks }] });
      return { ok: true, channel, ts, message: { text: body.text, blocks: body.blocks } };
    }
    // chat.update takes the channel id the post answered with, not a name.
    if (typeof body.channel !== 'string' || typeof body.ts !== 'string') return fail('invalid_arguments');
    const ids = (this.opts.channels ?? ['#deploys']).map((c) => this.channelId(c));
    if (!ids.includes(body.channel)) return fail('channel_not_found');
    const stored = this.messages.get(`${body.channel}/${body.ts}`);
    if (stored === undefined) return fail('message_not_found');
    stored.text = body.text;
    stored.blocks = body.blocks;
    stored.versions.push({ text: body.text, blocks: body.blocks });
    return { ok: true, channel: stored.channel, ts: stored.ts, text: body.text };
  }

  /** auth.test: any token Slack knows passes, whatever its scopes. */
  private authTest(req: IncomingMessage): Record<string, unknown> {
    const auth = req.headers.authorization;
    if (auth === undefined) return { ok: false, error: 'not_authed' };
    if (auth !== `Bearer ${this.opts.token}`) return { ok: false, error: 'invalid_auth' };
    return { ok: true, url: 'https://fake.slack.com/', team: 'Fake Workspace', user: 'rollguard', team_id: 'T0', user_id: 'U0', bot_id: 'B0' };
  }

  /** A read method: no JSON body (Slack does not read one), the email as a form field. */
  private lookupByEmail(req: IncomingMessage, raw: string): Record<string, unknown> {
    const auth = req.headers.authorization;
    if (auth === undefined) return { ok: false, error: 'not_authed' };
    if (auth !== `Bearer ${this.opts.token}`) return { ok: false, error: 'invalid_auth' };
    const scopes = this.opts.scopes ?? ['chat:write', 'users:read', 'users:read.email'];
    if (!scopes.includes('users:read.email')) return { ok: false, error: 'missing_scope', needed: 'users:read.email', provided: scopes.join(',') };
    if (!/^application\/x-www-form-urlencoded/i.test(req.headers['content-type'] ?? '')) return { ok: false, error: 'invalid_arguments' };
    const email = new URLSearchParams(raw).get('email');
    if (email === null || email === '') return { ok: false, error: 'invalid_arguments' };
    const entry = Object.entries(this.opts.users ?? {}).find(([e]) => e.toLowerCase() === email.toLowerCase());
    if (entry === undefined) return { ok: false, error: 'users_not_found' };
    return { ok: true, user: { id: entry[1], profile: { email: entry[0] } } };
  }

  /** Incoming webhooks answer a status and a word. */
  private incomingWebhook(path: string, req: IncomingMessage, body: Record<string, unknown> | undefined): [number, string] {
    if (this.opts.webhookSecret === undefined || path !== `/services/T0/B0/${this.opts.webhookSecret}`) return [404, 'no_service'];
    if (!/^application\/json/i.test(req.headers['content-type'] ?? '')) return [400, 'invalid_payload'];
    if (body === undefined) return [400, 'invalid_payload'];
    if (body.text === undefined && body.blocks === undefined) return [400, 'no_text'];
    if (body.blocks !== undefined && blockKitProblems(body.blocks).length > 0) return [400, 'invalid_blocks'];
    this.webhookPosts.push({ text: body.text, blocks: body.blocks });
    return [200, 'ok'];
  }

  /** Forgets a message, as if someone deleted it in Slack. */
  deleteMessage(channel: string, ts: string): void {
    this.messages.delete(`${channel}/${ts}`);
  }
}
