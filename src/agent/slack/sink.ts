import type { Logger } from 'pino';
import { deliveryUrlProblem } from '../../core/delivery-url.js';
import type { SlackNotifications } from '../../core/notifications-policy.js';
import type { DecisionRecord } from '../decision-record.js';
import { opensAMessage } from '../decision-status.js';
import { LatestQueue } from '../latest-queue.js';
import { scrub, type SecretReader } from '../secret-values.js';
import type { DecisionChange, DecisionSink, Delivery } from '../sinks.js';
import { SupersedeTracker } from '../supersede-tracker.js';
import { SlackError, type Posted, type SlackApi } from './api.js';
import { decisionMessage } from './blocks.js';

// Slack as a decision channel. With a bot token one decision is one message: posted when it is
// first shown, then edited in place (chat.update) on every later change: applied by X at T,
// dismissed, expired, superseded, rolled back, the handoff (R9). An incoming webhook cannot edit:
// it posts when a decision opens and once for each outcome and handoff assessment, without
// buttons. Delivery runs in the background, one at a time per decision, the latest state winning
// (latest-queue.ts).

export interface SlackSettings {
  slack: SlackNotifications | undefined;
  pageUrl: string | undefined;
}

export interface SlackSinkOptions {
  settingsFor: (namespace: string) => SlackSettings;
  secrets: SecretReader;
  api: SlackApi;
  logger: Logger;
  /** Decisions remembered (message ts, what was posted); the oldest are forgotten first. */
  maxRemembered?: number;
}

interface Sent {
  at: Posted;
  /** The message last sent, to skip an update that would change nothing. */
  body: string;
}

const QUIET = new Set(['superseded']);

export class SlackSink implements DecisionSink {
  readonly name = 'slack';
  private readonly messages = new Map<string, Sent>();
  /** Incoming-webhook mode: the states already posted per decision. */
  private readonly posted = new Map<string, Set<string>>();
  private readonly tracker = new SupersedeTracker();
  private readonly queue = new LatestQueue<DecisionRecord>((_id, record, signal) => this.deliver(record, signal));
  private note: (delivery: Delivery) => void = () => undefined;

  constructor(private readonly opts: SlackSinkOptions) {}

  onDelivered(note: (delivery: Delivery) => void): void {
    this.note = note;
  }

  configured(namespace: string): boolean {
    return this.opts.settingsFor(namespace).slack !== undefined;
  }

  async publish(record: DecisionRecord, _change: DecisionChange): Promise<void> {
    if (!this.configured(record.namespace)) return;
    const snapshot = structuredClone(record);
    const older = this.tracker.note(snapshot);
    await Promise.all([this.queue.push(snapshot.id, snapshot), older === undefined ? undefined : this.queue.push(older.id, older)]);
  }

  /** Every queued delivery finished. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Where a decision's message is, once posted with a bot token. */
  messageOf(id: string): Posted | undefined {
    return this.messages.get(id)?.at;
  }

  private async deliver(record: DecisionRecord, signal: AbortSignal): Promise<void> {
    const { slack, pageUrl } = this.opts.settingsFor(record.namespace);
    if (slack === undefined) return;
    try {
      if (slack.botToken !== undefined && slack.channel !== undefined) await this.viaBot(record, { ...slack, botToken: slack.botToken, channel: slack.channel }, pageUrl, signal);
      else if (slack.webhookUrl !== undefined) await this.viaWebhook(record, { ...slack, webhookUrl: slack.webhookUrl }, pageUrl, signal);
    } catch (err) {
      if (err instanceof SlackError && QUIET.has(err.code)) return;
      this.opts.logger.warn(
        { sink: this.name, decision: record.id, namespace: record.namespace, state: record.state, error: scrub(err instanceof Error ? err.message : String(err), this.opts.secrets.known()) },
        'could not deliver the decision to Slack',
      );
    }
  }

  private async viaBot(record: DecisionRecord, slack: SlackNotifications & Required<Pick<SlackNotifications, 'botToken' | 'channel'>>, pageUrl: string | undefined, signal: AbortSignal): Promise<void> {
    // The message this decision was posted as: remembered here, or recorded on the decision by the
    // leader before (a restart, a failover): edited, never posted a second time.
    const kept = record.notifications?.slack;
    const sent = this.messages.get(record.id) ?? (kept === undefined ? undefined : { at: kept, body: '' });
    if (sent === undefined && !opensAMessage(record)) return;
    const message = decisionMessage(record, { pageUrl, buttons: slack.signingSecret !== undefined });
    const body = JSON.stringify(message);
    if (sent?.body === body) {
      // Sent already, but not kept on the decision (the write failed): said again, so it is.
      if (kept?.ts !== sent.at.ts || kept.channel !== sent.at.channel) this.note({ id: record.id, slack: sent.at });
      return;
    }
    const token = await this.opts.secrets.read(slack.botToken);
    if (sent !== undefined) {
      try {
        const at = await this.opts.api.update(token, sent.at, message, signal);
        this.remember(record.id, { at, body });
        if (kept?.ts !== at.ts || kept.channel !== at.channel) this.note({ id: record.id, slack: at });
        this.opts.logger.debug({ sink: this.name, decision: record.id, state: record.state, channel: sent.at.channel, ts: sent.at.ts }, 'Slack message updated');
        return;
      } catch (err) {
        // Deleted by someone in Slack: the decision still needs its one message.
        if (!(err instanceof SlackError && err.code === 'message_not_found')) throw err;
      }
    }
    const at = await this.opts.api.postMessage(token, slack.channel, message, signal);
    this.remember(record.id, { at, body });
    this.note({ id: record.id, slack: at });
    this.opts.logger.info({ sink: this.name, decision: record.id, state: record.state, channel: at.channel, ts: at.ts }, 'Slack message posted');
  }

  private async viaWebhook(record: DecisionRecord, slack: SlackNotifications & Required<Pick<SlackNotifications, 'webhookUrl'>>, pageUrl: string | undefined, signal: AbortSignal): Promise<void> {
    const done = this.posted.get(record.id) ?? new Set<string>();
    // A new handoff assessment is a change that matters too (R9): each is posted once.
    const stage = record.handoff === undefined ? record.state : `${record.state} handoff ${record.handoff.published}`;
    if (done.has(stage)) return;
    if (!opensAMessage(record) && (done.size === 0 || record.state === 'superseded' || record.state === 'closed')) return;
    const url = await this.opts.secrets.read(slack.webhookUrl);
    const problem = deliveryUrlProblem(url);
    if (problem !== undefined) throw new SlackError('bad_url', `the incoming-webhook URL in the referenced Secret ${problem}`);
    await this.opts.api.postWebhook(url, decisionMessage(record, { pageUrl, buttons: false }), signal);
    done.add(stage);
    this.posted.delete(record.id);
    this.posted.set(record.id, done);
    this.trim(this.posted);
    this.opts.logger.info({ sink: this.name, decision: record.id, state: record.state }, 'Slack incoming webhook posted');
  }

  private remember(id: string, sent: Sent): void {
    this.messages.delete(id);
    this.messages.set(id, sent);
    this.trim(this.messages);
  }

  private trim(map: Map<string, unknown>): void {
    const max = this.opts.maxRemembered ?? 5000;
    for (const key of map.keys()) {
      if (map.size <= max) break;
      map.delete(key);
    }
  }
}
