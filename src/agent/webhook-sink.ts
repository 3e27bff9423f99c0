import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { urlOrigin } from '../core/delivery-url.js';
import type { WebhookNotifications } from '../core/notifications-policy.js';
import type { DecisionRecord } from './decision-record.js';
import { LatestQueue } from './latest-queue.js';
import { scrub, type SecretReader } from './secret-values.js';
import type { DecisionChange, DecisionSink, Delivery } from './sinks.js';
import { SupersedeTracker } from './supersede-tracker.js';
import { decisionPayload } from './webhook-payload.js';
import { SIGNATURE_HEADER, signatureHeader } from './webhook-signature.js';

// The generic webhook: every change of a decision POSTed as JSON (schema rollguard.io/decision/v1),
// signed, retried with exponential backoff and jitter up to the policy's maxAttempts. One delivery
// at a time per decision; a newer state replaces an older one still waiting or retrying, so the
// receiver ends at the latest state and evaluation never waits for it.

export interface WebhookSettings {
  webhook: WebhookNotifications | undefined;
  pageUrl: string | undefined;
}

export interface WebhookSinkOptions {
  settingsFor: (namespace: string) => WebhookSettings;
  secrets: SecretReader;
  logger: Logger;
  clock?: () => number;
  timeoutMs?: number;
  /** Backoff before retry n is in [d/2, d] for d = min(maxDelayMs, baseDelayMs · 2^(n−1)). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
}

interface Item {
  record: DecisionRecord;
  event: DecisionChange;
}

type Attempt = { done: true } | { done: false; retryAfterMs?: number | undefined; why: string; permanent?: boolean };

export class WebhookSink implements DecisionSink {
  readonly name = 'webhook';
  private readonly tracker = new SupersedeTracker();
  private readonly queue = new LatestQueue<Item>((_id, item, signal) => this.deliver(item, signal));

  private note: (delivery: Delivery) => void = () => undefined;

  constructor(private readonly opts: WebhookSinkOptions) {}

  onDelivered(note: (delivery: Delivery) => void): void {
    this.note = note;
  }

  configured(namespace: string): boolean {
    return this.opts.settingsFor(namespace).webhook !== undefined;
  }

  async publish(record: DecisionRecord, change: DecisionChange): Promise<void> {
    if (!this.configured(record.namespace)) return;
    const snapshot = structuredClone(record);
    const older = this.tracker.note(snapshot);
    await Promise.all([this.queue.push(snapshot.id, { record: snapshot, event: change }), older === undefined ? undefined : this.queue.push(older.id, { record: older, event: 'superseded' })]);
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  backoffMs(retry: number): number {
    const d = Math.min(this.opts.maxDelayMs ?? 60_000, (this.opts.baseDelayMs ?? 1000) * 2 ** (retry - 1));
    return d / 2 + (this.opts.random ?? Math.random)() * (d / 2);
  }

  private async deliver(item: Item, superseded: AbortSignal): Promise<void> {
    const { webhook, pageUrl } = this.opts.settingsFor(item.record.namespace);
    if (webhook === undefined) return;
    const clock = this.opts.clock ?? Date.now;
    const delivery = randomUUID();
    const body = JSON.stringify(decisionPayload(item.record, item.event, { delivery, now: clock(), pageUrl }));
    const log = { sink: this.name, decision: item.record.id, namespace: item.record.namespace, event: item.event, receiver: urlOrigin(webhook.url) };
    for (let attempt = 1; attempt <= webhook.maxAttempts; attempt++) {
      const result = await this.attempt(webhook, body, { event: item.event, delivery }, clock);
      if (result.done) {
        this.opts.logger.debug({ ...log, attempt }, 'decision webhook delivered');
        this.note({ id: item.record.id, webhook: item.event });
        return;
      }
      const why = scrub(result.why, this.opts.secrets.known());
      if (result.permanent === true || attempt === webhook.maxAttempts) {
        this.opts.logger.warn({ ...log, attempts: attempt, error: why }, result.permanent === true ? 'decision webhook refused; not retried' : 'decision webhook failed; giving up');
        return;
      }
      this.opts.logger.debug({ ...log, attempt, error: why }, 'decision webhook failed; will retry');
      try {
        await sleep(Math.min(result.retryAfterMs ?? this.backoffMs(attempt), this.opts.maxDelayMs ?? 60_000), undefined, { signal: superseded });
      } catch {
        return; // a newer state of this decision is next in line
      }
    }
  }

  private async attempt(webhook: WebhookNotifications, body: string, ids: { event: DecisionChange; delivery: string }, clock: () => number): Promise<Attempt> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'User-Agent': 'rollguard', 'X-Rollguard-Event': ids.event, 'X-Rollguard-Delivery': ids.delivery };
    if (webhook.secret !== undefined) {
      let secret: string;
      try {
        secret = await this.opts.secrets.read(webhook.secret);
      } catch (err) {
        return { done: false, why: err instanceof Error ? err.message : 'cannot read the signing secret' };
      }
      // Signed at each attempt: a retry carries a fresh timestamp that a receiver's tolerance accepts.
      headers[SIGNATURE_HEADER] = signatureHeader(secret, Math.floor(clock() / 1000), body);
    }
    let res;
    try {
      res = await fetch(webhook.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000) });
      await res.text();
    } catch (err) {
      return { done: false, why: err instanceof Error && err.name === 'TimeoutError' ? 'timed out' : 'unreachable' };
    }
    if (res.status >= 200 && res.status <= 299) return { done: true };
    const retryable = res.status === 408 || res.status === 425 || res.status === 429 || res.status >= 500;
    const seconds = Number(res.headers.get('retry-after') ?? Number.NaN);
    return { done: false, why: `HTTP ${res.status}`, permanent: !retryable, retryAfterMs: Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined };
  }
}
