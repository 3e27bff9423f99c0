import { describeRef, SecretReadError, type SecretReader } from '../agent/secret-values.js';
import { SlackApi, SlackError } from '../agent/slack/api.js';
import type { Policy } from '../core/policy.js';
import { fail, guarded, pass, skip, type CheckResult } from './result.js';

// The Slack check of `rollguard check`: the bot token the cluster policy names can be read from its
// Secret and Slack accepts it (auth.test), each failure with what to change.

export const SLACK_CHECK = 'Slack credentials work';
const NAME = SLACK_CHECK;
const BAD_TOKEN = new Set(['invalid_auth', 'not_authed', 'token_revoked', 'token_expired', 'account_inactive']);

export function checkSlack(target: { policy: Policy; policyFrom: string; namespace: string }, secrets: SecretReader, apiBase: string): Promise<CheckResult> {
  const config = target.policy.notifications.slack;
  const ref = config?.botToken;
  if (ref === undefined) {
    const how = config?.webhookUrl === undefined ? 'no Slack in' : 'only an incoming webhook (nothing to verify without posting) in';
    return Promise.resolve(skip(NAME, `${how} the notifications of ${target.policyFrom}`, 'set notifications.slack.botToken (a Secret reference) and notifications.slack.channel in the cluster policy to get decisions in Slack'));
  }
  const where = describeRef(target.namespace, ref);
  const tokenFix = `put the app's Bot User OAuth Token (xoxb-…) into ${where}, or point notifications.slack.botToken (${target.policyFrom}) at the Secret that holds it`;
  return guarded(NAME, tokenFix, async () => {
    let token: string;
    try {
      token = await secrets.read(ref);
    } catch (err) {
      if (err instanceof SecretReadError) return fail(NAME, err.message, `${tokenFix}; reading it needs get on Secrets in ${target.namespace}`);
      throw err;
    }
    try {
      const who = await new SlackApi({ apiBase, maxAttempts: 1, timeoutMs: 5000 }).authTest(token);
      return pass(NAME, `the token in ${where} is the bot user ${who.user} of workspace ${who.team}`);
    } catch (err) {
      if (!(err instanceof SlackError)) throw err;
      if (BAD_TOKEN.has(err.code)) return fail(NAME, `Slack refuses the token in ${where}: ${err.code}`, tokenFix);
      if (err.code === 'missing_scope') return fail(NAME, err.message, 'add the chat:write scope (and users:read.email, for the Apply button) to the Slack app, reinstall it, and put the new token into the Secret');
      return fail(NAME, err.message, `check that ${apiBase} is reachable from where the agent runs (egress, proxy)`);
    }
  });
}
