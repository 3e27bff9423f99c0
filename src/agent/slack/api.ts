import { setTimeout as sleep } from 'node:timers/promises';
import type { SlackMessage } from './blocks.js';

// The two ways rollguard talks to Slack: the Web API with a bot token (chat.postMessage, then
// chat.update of the same message; users.lookupByEmail for the policy's email keys) and an
// incoming webhook. A 429 waits as long as Retry-After
// says; network errors and 5xx are retried a few times. Errors name the method, never the token
// or the webhook URL (F3).

export const DEFAULT_SLACK_API = 'https://slack.com/api';

export class SlackError extends Error {
  override readonly name = 'SlackError';
  constructor(
    /** Slack's error code ("channel_not_found", "invalid_auth"), or "http_NNN", "unreachable", "superseded". */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface SlackApiOptions {
  apiBase?: string;
  timeoutMs?: number;
  /** Attempts per call, for 429 and transient failures. */
  maxAttempts?: number;
  /** Longest Retry-After honoured; a longer one gives up (the next change tries again). */
  maxRetryAfterMs?: number;
  /** Wait before retry n (1-based) of a network error or 5xx. */
  backoffMs?: (retry: number) => number;
}

export interface Posted {
  channel: string;
  ts: string;
}

interface Reply {
  status: number;
  retryAfterMs: number | undefined;
  text: string;
}

function retryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/** The kind of network failure (a code such as ECONNREFUSED), without the address. */
function failureOf(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return 'timed out';
  const code = err instanceof Error && err.cause instanceof Error ? (err.cause as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' ? `unreachable (${code})` : 'unreachable';
}

export class SlackApi {
  readonly apiBase: string;

  constructor(private readonly opts: SlackApiOptions = {}) {
    this.apiBase = (opts.apiBase ?? DEFAULT_SLACK_API).replace(/\/+$/, '');
  }

  async postMessage(token: string, channel: string, message: SlackMessage, signal?: AbortSignal): Promise<Posted> {
    return posted('chat.postMessage', await this.call('chat.postMessage', token, { channel, ...message, unfurl_links: false }, signal));
  }

  async update(token: string, at: Posted, message: SlackMessage, signal?: AbortSignal): Promise<Posted> {
    return posted('chat.update', await this.call('chat.update', token, { channel: at.channel, ts: at.ts, ...message }, signal));
  }

  /**
   * The Slack user id of a workspace member's email; undefined when nobody has it. Needs the
   * `users:read.email` scope (Slack answers `missing_scope` otherwise). A read method: form-encoded.
   */
  async lookupByEmail(token: string, email: string, signal?: AbortSignal): Promise<string | undefined> {
    let body: Record<string, unknown>;
    try {
      body = await this.call('users.lookupByEmail', token, new URLSearchParams({ email }), signal);
    } catch (err) {
      if (err instanceof SlackError && err.code === 'users_not_found') return undefined;
      throw err;
    }
    const id = (body.user as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'string') throw new SlackError('bad_response', 'users.lookupByEmail answered ok without a user id');
    return id;
  }

  /** Whether the token works (auth.test): its workspace and bot user; invalid_auth, token_revoked… otherwise. */
  async authTest(token: string, signal?: AbortSignal): Promise<{ team: string; user: string }> {
    const body = await this.call('auth.test', token, new URLSearchParams(), signal);
    return { team: typeof body.team === 'string' ? body.team : 'unknown', user: typeof body.user === 'string' ? body.user : 'unknown' };
  }

  /** Incoming webhooks answer 200 "ok", or a status with an error word ("invalid_payload", "no_service"). */
  async postWebhook(url: string, message: SlackMessage, signal?: AbortSignal): Promise<void> {
    const reply = await this.send('the Slack incoming webhook', url, { 'Content-Type': 'application/json; charset=utf-8' }, message, signal);
    if (reply.status < 200 || reply.status > 299) {
      const word = reply.text.trim();
      const code = /^[a-z_]{1,64}$/.test(word) ? word : `http_${reply.status}`;
      throw new SlackError(code, `the Slack incoming webhook answered HTTP ${reply.status} ${code}`);
    }
  }

  /** A JSON body, or a form for the methods that take no JSON. */
  private async call(method: string, token: string, payload: unknown, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const type = payload instanceof URLSearchParams ? 'application/x-www-form-urlencoded' : 'application/json; charset=utf-8';
    const reply = await this.send(method, `${this.apiBase}/${method}`, { 'Content-Type': type, Authorization: `Bearer ${token}` }, payload, signal);
    if (reply.status < 200 || reply.status > 299) throw new SlackError(`http_${reply.status}`, `${method} answered HTTP ${reply.status}`);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(reply.text) as Record<string, unknown>;
    } catch {
      throw new SlackError('bad_response', `${method} answered something that is not JSON`);
    }
    if (body.ok !== true) {
      const code = typeof body.error === 'string' ? body.error : 'unknown_error';
      const messages = (body.response_metadata as { messages?: unknown } | undefined)?.messages;
      // missing_scope names the scope the app lacks.
      const needed = typeof body.needed === 'string' ? ` (needed: ${body.needed})` : '';
      const detail = Array.isArray(messages) ? ` (${messages.map(String).join('; ').slice(0, 300)})` : needed;
      throw new SlackError(code, `${method} failed: ${code}${detail}`);
    }
    return body;
  }

  /** One request with its retries; `what` is what errors call it (never the URL: it may be a secret). */
  private async send(what: string, url: string, headers: Record<string, string>, payload: unknown, signal?: AbortSignal): Promise<Reply> {
    const attempts = this.opts.maxAttempts ?? 3;
    const body = payload instanceof URLSearchParams ? payload.toString() : JSON.stringify(payload);
    for (let attempt = 1; ; attempt++) {
      let reply: Reply | undefined;
      let failure = 'unreachable';
      try {
        const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000) });
        reply = { status: res.status, retryAfterMs: retryAfter(res.headers.get('retry-after')), text: await res.text() };
      } catch (err) {
        failure = failureOf(err);
      }
      if (reply !== undefined && reply.status !== 429 && reply.status < 500) return reply;
      const wait = reply?.status === 429 ? (reply.retryAfterMs ?? 1000) : (this.opts.backoffMs ?? ((n) => 500 * 2 ** (n - 1)))(attempt);
      if (attempt >= attempts || wait > (this.opts.maxRetryAfterMs ?? 60_000)) {
        if (reply !== undefined) return reply;
        throw new SlackError('unreachable', `${what}: ${failure} (${attempt} attempts)`);
      }
      try {
        await sleep(wait, undefined, signal === undefined ? {} : { signal });
      } catch {
        throw new SlackError('superseded', `${what}: a newer state of the decision replaced this one`);
      }
    }
  }
}

function posted(method: string, body: Record<string, unknown>): Posted {
  if (typeof body.channel !== 'string' || typeof body.ts !== 'string') throw new SlackError('bad_response', `${method} answered ok without channel and ts`);
  return { channel: body.channel, ts: body.ts };
}
