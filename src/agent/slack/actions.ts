import type { Logger } from 'pino';
import type { Identity } from '../../kube/auth-reviews.js';
import type { Policy } from '../../core/policy.js';
import type { ActionResult, DecisionActions } from '../apply.js';
import type { DecisionStore } from '../decision-store.js';
import type { SecretReader } from '../secret-values.js';
import { SLACK_ACTIONS } from './blocks.js';
import type { SlackUserResolver } from './users.js';
import { ReplayGuard, verifySlackRequest } from './verify.js';

// The Apply and Dismiss buttons of a Slack message: Slack posts the interaction here. Nothing is
// done before the request is verified with the signing secret of the decision's namespace. The
// Slack user is mapped to a Kubernetes identity through the policy (`notifications.slackUsers`, by
// user id or by email: users.ts); then the same Apply as the decision page. The person gets an ephemeral answer either way.

export interface SlackActionsDeps {
  store: Pick<DecisionStore, 'get'>;
  actions: Pick<DecisionActions, 'apply' | 'dismiss'>;
  secrets: SecretReader;
  /** Maps the Slack user through the policy's `slackUsers` (ids, and emails looked up in Slack). */
  users: SlackUserResolver;
  policyFor: (namespace: string) => Policy;
  logger: Logger;
  clock: () => number;
  /** Where ephemeral answers may be posted besides Slack's own hooks host (a test double). */
  allowedResponseOrigin?: string;
}

interface Interaction {
  type?: string;
  user?: { id?: string; username?: string };
  actions?: { action_id?: string; value?: string }[];
  response_url?: string;
}

export interface SlackReply {
  status: number;
  body: string;
}

export class SlackActions {
  private readonly replays = new ReplayGuard();

  constructor(private readonly deps: SlackActionsDeps) {}

  private responseUrlAllowed(url: string | undefined): url is string {
    if (url === undefined) return false;
    try {
      const u = new URL(url);
      return (u.protocol === 'https:' && u.hostname === 'hooks.slack.com') || (this.deps.allowedResponseOrigin !== undefined && u.origin === this.deps.allowedResponseOrigin);
    } catch {
      return false;
    }
  }

  private async answer(url: string | undefined, text: string): Promise<void> {
    if (!this.responseUrlAllowed(url)) {
      this.deps.logger.warn({ text }, 'no usable Slack response_url; the answer was not delivered');
      return;
    }
    try {
      await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }), signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      this.deps.logger.warn({ error: err instanceof Error ? err.message : String(err) }, 'could not post the ephemeral answer to Slack');
    }
  }

  /** Verifies and answers at once (Slack wants a reply within 3 s); the Apply itself runs after. */
  async handle(rawBody: string, headers: Record<string, string | string[] | undefined>): Promise<{ reply: SlackReply; done: Promise<void> }> {
    const header = (name: string): string | undefined => {
      const v = headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    let interaction: Interaction;
    try {
      interaction = JSON.parse(new URLSearchParams(rawBody).get('payload') ?? '') as Interaction;
    } catch {
      return { reply: { status: 400, body: 'expected a Slack interaction (form field "payload")' }, done: Promise.resolve() };
    }
    const action = interaction.actions?.[0];
    const id = action?.value ?? '';
    const record = this.deps.store.get(id);
    if (record === undefined) return { reply: { status: 404, body: `no decision ${id} on this agent` }, done: Promise.resolve() };
    const ref = this.deps.policyFor(record.namespace).notifications.slack?.signingSecret;
    if (ref === undefined) return { reply: { status: 401, body: 'no Slack signing secret is configured for this namespace: buttons are not accepted' }, done: Promise.resolve() };
    let secret: string;
    try {
      secret = await this.deps.secrets.read(ref);
    } catch (err) {
      this.deps.logger.error({ error: err instanceof Error ? err.message : String(err) }, 'cannot read the Slack signing secret');
      return { reply: { status: 503, body: 'the Slack signing secret cannot be read' }, done: Promise.resolve() };
    }
    const check = verifySlackRequest({ secret, timestamp: header('x-slack-request-timestamp'), signature: header('x-slack-signature'), body: rawBody, nowSeconds: Math.floor(this.deps.clock() / 1000), replays: this.replays });
    if (!check.ok) {
      this.deps.logger.warn({ decision: id, reason: check.reason }, 'refused a Slack interaction');
      return { reply: { status: 401, body: `refused: ${check.reason}` }, done: Promise.resolve() };
    }
    if (action?.action_id === SLACK_ACTIONS.open) return { reply: { status: 200, body: '' }, done: Promise.resolve() };
    const done = this.act(record.namespace, id, action?.action_id, interaction);
    return { reply: { status: 200, body: '' }, done };
  }

  private async act(namespace: string, id: string, actionId: string | undefined, interaction: Interaction): Promise<void> {
    const slackUser = interaction.user?.id ?? '';
    const notifications = this.deps.policyFor(namespace).notifications;
    const botToken = notifications.slack?.botToken;
    const mapped = await this.deps.users.resolve(slackUser, notifications.slackUsers, () => (botToken === undefined ? Promise.reject(new Error('no notifications.slack.botToken')) : this.deps.secrets.read(botToken)));
    if (!mapped.ok) {
      if (mapped.reason !== 'unmapped') this.deps.logger.warn({ decision: id, slackUser, reason: mapped.reason, message: mapped.message }, 'could not map a Slack user through notifications.slackUsers');
      await this.answer(interaction.response_url, mapped.message);
      return;
    }
    const who: Identity = { user: mapped.identity.user, groups: mapped.identity.groups };
    let result: ActionResult;
    if (actionId === SLACK_ACTIONS.apply) result = await this.deps.actions.apply(id, who, 'slack');
    else if (actionId === SLACK_ACTIONS.dismiss) result = await this.deps.actions.dismiss(id, who, 'slack');
    else {
      await this.answer(interaction.response_url, `rollguard does not know the button ${actionId ?? '(none)'}.`);
      return;
    }
    await this.answer(interaction.response_url, result.ok ? `Done: ${result.message}` : `Nothing was done: ${result.message}`);
  }
}
