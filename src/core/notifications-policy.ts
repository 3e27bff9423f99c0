import * as z from 'zod';
import { deliveryUrlProblem } from './delivery-url.js';
import { durationSchema } from './duration-schema.js';

// The `notifications` section of a policy: where a decision goes (R10) and who the Slack Apply
// button acts as. Credentials are references to Secrets in rollguard's own namespace, never inline
// (F3): a token written into the policy is rejected without the error repeating it.

export interface SecretRef {
  /** A Secret in rollguard's own namespace. */
  name: string;
  key: string;
}

export interface SlackNotifications {
  /** Bot token: chat.postMessage, then chat.update in place. */
  botToken?: SecretRef | undefined;
  /** Incoming-webhook URL: notify only, no buttons. */
  webhookUrl?: SecretRef | undefined;
  channel?: string | undefined;
  /** Verifies the Apply/Dismiss callbacks; without it the message has no buttons. */
  signingSecret?: SecretRef | undefined;
}

export interface WebhookNotifications {
  url: string;
  secret?: SecretRef | undefined;
  maxAttempts: number;
}

export interface SlackIdentity {
  user: string;
  groups: string[];
}

export interface NotificationPolicy {
  slack?: SlackNotifications | undefined;
  webhook?: WebhookNotifications | undefined;
  /** Base URL of the agent's decision pages, e.g. https://rollguard.example.com. */
  pageUrl?: string | undefined;
  /** A decision nobody acted on expires after this. */
  decisionTtlMs: number;
  /** Slack user id or email → the Kubernetes identity the Apply button acts as. */
  slackUsers: Record<string, SlackIdentity>;
}

export const DEFAULT_NOTIFICATIONS: NotificationPolicy = { decisionTtlMs: 60 * 60_000, slackUsers: {} };

export const DEFAULT_WEBHOOK_ATTEMPTS = 5;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
export const SLACK_CHANNEL = /^(#?[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{6,})$/;

export function secretRefSchema(field: string) {
  return z.strictObject(
    {
      name: z.string().max(253).regex(DNS_SUBDOMAIN, `${field}.name must be a Secret name (lowercase DNS subdomain)`),
      key: z.string().max(253).regex(SECRET_KEY, `${field}.key must be a key of the Secret's data (letters, digits, "-", "_", ".")`),
    },
    {
      // Never echo the input: it may be the token itself.
      error: (issue) =>
        issue.code === 'invalid_type'
          ? `${field} must reference a Secret in rollguard's own namespace as { name, key }${typeof issue.input === 'string' ? '; an inline value is not accepted: credentials never go in the policy (F3)' : ''}`
          : undefined,
    },
  );
}

function urlSchema(field: string) {
  return z.string().superRefine((text, ctx) => {
    const problem = deliveryUrlProblem(text);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `${field} ${problem}` });
  });
}

const pageUrl = urlSchema('notifications.pageUrl').refine((text) => !URL.canParse(text) || (new URL(text).search === '' && new URL(text).hash === ''), {
  message: 'notifications.pageUrl must be a base URL without query or fragment (rollguard appends /decisions/{id})',
});

const slackIdentity = z.strictObject({
  user: z.string().min(1, 'the Kubernetes user the Apply button acts as'),
  groups: z.array(z.string().min(1)).optional(),
});

const slackUsers = z.record(z.string(), slackIdentity).superRefine((map, ctx) => {
  for (const key of Object.keys(map)) {
    if (!SLACK_USER_ID.test(key) && !EMAIL.test(key)) {
      ctx.addIssue({ code: 'custom', path: [key], message: `notifications.slackUsers keys are Slack user ids (U…/W…) or email addresses; "${key}" is neither` });
    }
  }
});

/** Settings one policy document writes; `null` turns off a channel the cluster default set. */
export const notificationsInputSchema = z.strictObject({
  slack: z
    .strictObject({
      botToken: secretRefSchema('notifications.slack.botToken').optional(),
      webhookUrl: secretRefSchema('notifications.slack.webhookUrl').optional(),
      channel: z.string().regex(SLACK_CHANNEL, 'notifications.slack.channel must be a channel id such as C0123456789 or a name such as #deploys').optional(),
      signingSecret: secretRefSchema('notifications.slack.signingSecret').optional(),
    })
    .nullable()
    .optional(),
  webhook: z
    .strictObject({
      url: urlSchema('notifications.webhook.url'),
      secret: secretRefSchema('notifications.webhook.secret').optional(),
      maxAttempts: z.number().int().min(1, 'notifications.webhook.maxAttempts must be at least 1').max(20, 'notifications.webhook.maxAttempts must be at most 20').optional(),
    })
    .nullable()
    .optional(),
  pageUrl: pageUrl.optional(),
  decisionTtl: durationSchema('notifications.decisionTtl')
    .refine((ms) => ms >= 60_000, 'notifications.decisionTtl must be at least 1m')
    .optional(),
  slackUsers: slackUsers.optional(),
});

type NotificationsInput = z.output<typeof notificationsInputSchema>;

function mergeSlack(base: SlackNotifications | undefined, input: NotificationsInput['slack']): SlackNotifications | undefined {
  if (input === null) return undefined;
  if (input === undefined) return base;
  // A document that names a credential chooses the mode: the inherited credentials do not mix in,
  // nor does an inherited channel into an incoming webhook (which posts where it was created).
  const chooses = input.botToken !== undefined || input.webhookUrl !== undefined;
  const credentials = chooses ? input : base;
  return {
    botToken: credentials?.botToken,
    webhookUrl: credentials?.webhookUrl,
    signingSecret: credentials?.signingSecret,
    channel: input.channel ?? (chooses && input.webhookUrl !== undefined ? undefined : base?.channel),
  };
}

function mergeWebhook(base: WebhookNotifications | undefined, input: NotificationsInput['webhook']): WebhookNotifications | undefined {
  if (input === null) return undefined;
  if (input === undefined) return base;
  // Replaced as a whole: a signing secret belongs to its receiver.
  return { url: input.url, secret: input.secret, maxAttempts: input.maxAttempts ?? DEFAULT_WEBHOOK_ATTEMPTS };
}

export function mergeNotifications(base: NotificationPolicy, input: NotificationsInput | undefined): NotificationPolicy {
  const users = Object.fromEntries(Object.entries(input?.slackUsers ?? {}).map(([k, v]) => [k, { user: v.user, groups: v.groups ?? [] }]));
  return {
    slack: mergeSlack(base.slack, input?.slack),
    webhook: mergeWebhook(base.webhook, input?.webhook),
    pageUrl: input?.pageUrl?.replace(/\/+$/, '') ?? base.pageUrl,
    decisionTtlMs: input?.decisionTtl ?? base.decisionTtlMs,
    slackUsers: { ...base.slackUsers, ...users },
  };
}

/** What only the resolved settings can tell (a namespace may inherit half of them): "path: message" lines. */
export function notificationProblems(n: NotificationPolicy, prefix: string): string[] {
  const at = (field: string): string => (prefix === '' ? field : `${prefix}.${field}`);
  const slack = n.slack;
  if (slack === undefined) return [];
  const out: string[] = [];
  if (slack.botToken !== undefined && slack.webhookUrl !== undefined) {
    out.push(`${at('notifications.slack')}: botToken and webhookUrl exclude each other (a bot token posts and updates with buttons; an incoming webhook only notifies)`);
  }
  if (slack.botToken === undefined && slack.webhookUrl === undefined) {
    out.push(`${at('notifications.slack')}: needs botToken (with channel) or webhookUrl`);
  }
  if (slack.botToken !== undefined && slack.channel === undefined) {
    out.push(`${at('notifications.slack.channel')}: required with botToken (the channel chat.postMessage posts to)`);
  }
  if (slack.webhookUrl !== undefined && slack.channel !== undefined) {
    out.push(`${at('notifications.slack.channel')}: not used with webhookUrl (an incoming webhook posts to the channel it was created for)`);
  }
  if (slack.signingSecret !== undefined && slack.botToken === undefined) {
    out.push(`${at('notifications.slack.signingSecret')}: only used with botToken (it verifies the Apply button's callbacks; an incoming webhook has no buttons)`);
  }
  return out;
}
