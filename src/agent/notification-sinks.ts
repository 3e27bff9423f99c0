import type { Logger } from 'pino';
import type { Policy } from '../core/policy.js';
import type { DecisionRecord } from './decision-record.js';
import type { SecretReader } from './secret-values.js';
import type { DecisionChange, DecisionSink, Delivery } from './sinks.js';
import { SlackApi, type SlackApiOptions } from './slack/api.js';
import { SlackSink } from './slack/sink.js';
import { WebhookSink, type WebhookSinkOptions } from './webhook-sink.js';

// The people-facing channels the policy configures (`notifications`), as one sink for the agent:
// each decision goes to the channels of its namespace's policy (the namespace's own, else the
// cluster default's), read at delivery time, so a reloaded policy applies to the next change.

export interface NotificationSinksOptions {
  policyFor: (namespace: string) => Policy;
  secrets: SecretReader;
  logger: Logger;
  slack?: SlackApiOptions;
  webhook?: Omit<WebhookSinkOptions, 'settingsFor' | 'secrets' | 'logger'>;
}

export class NotificationSinks implements DecisionSink {
  readonly name = 'notifications';
  readonly slack: SlackSink;
  readonly webhook: WebhookSink;

  constructor(opts: NotificationSinksOptions) {
    const notifications = (namespace: string) => opts.policyFor(namespace).notifications;
    this.slack = new SlackSink({
      settingsFor: (ns) => ({ slack: notifications(ns).slack, pageUrl: notifications(ns).pageUrl }),
      secrets: opts.secrets,
      api: new SlackApi(opts.slack),
      logger: opts.logger,
    });
    this.webhook = new WebhookSink({
      ...opts.webhook,
      settingsFor: (ns) => ({ webhook: notifications(ns).webhook, pageUrl: notifications(ns).pageUrl }),
      secrets: opts.secrets,
      logger: opts.logger,
    });
  }

  /** The channels configured for a namespace: none, Slack, the webhook, or both. */
  sinksFor(namespace: string): DecisionSink[] {
    return [this.slack, this.webhook].filter((s) => s.configured(namespace));
  }

  async publish(record: DecisionRecord, change: DecisionChange): Promise<void> {
    await Promise.all(this.sinksFor(record.namespace).map((s) => s.publish(record, change)));
  }

  onDelivered(note: (delivery: Delivery) => void): void {
    this.slack.onDelivered(note);
    this.webhook.onDelivered(note);
  }

  idle(): Promise<void> {
    return Promise.all([this.slack.idle(), this.webhook.idle()]).then(() => undefined);
  }
}
