import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationSinks } from '../../src/agent/notification-sinks.js';
import { parsePolicySet, resolver } from '../../src/policy/policy-file.js';
import { blockedByConfig, recordOf } from '../support/decision-fixtures.js';
import { DecisionReceiver } from '../support/decision-receiver.js';
import { FakeSecrets } from '../support/fake-secrets.js';
import { FakeSlack } from '../support/fake-slack.js';
import { capturedLogger } from '../support/log-capture.js';

// F3: the notification credentials (bot token, signing secret, incoming-webhook URL, webhook HMAC
// secret) go through every failing and succeeding delivery path at debug level, and appear in no
// log line, nor anywhere but where each belongs (the token in Slack's Authorization header only).

const BOT_TOKEN = 'xoxb-F3-canary-bot-7d41aa';
const SIGNING = 'F3-canary-signing-0b3c9e';
const HMAC = 'F3-canary-hmac-55e1f0';
const HOOK_PATH = 'F3canaryHookPath99zz';
const CANARIES = [BOT_TOKEN, SIGNING, HMAC, HOOK_PATH];
const forms = (s: string): string[] => [s, Buffer.from(s).toString('base64'), s.slice(0, 12), s.slice(-12)];

let slack: FakeSlack;
let wrongTokenSlack: FakeSlack;
let receiver: DecisionReceiver;
let failingReceiver: DecisionReceiver;

beforeAll(async () => {
  slack = await new FakeSlack({ token: BOT_TOKEN, channels: ['#deploys'], webhookSecret: HOOK_PATH }).start();
  wrongTokenSlack = await new FakeSlack({ token: 'xoxb-another-workspace', channels: ['#deploys'] }).start();
  receiver = await new DecisionReceiver(HMAC).start();
  failingReceiver = await new DecisionReceiver(HMAC, () => 500).start();
});
afterAll(async () => {
  await Promise.all([slack.stop(), wrongTokenSlack.stop(), receiver.stop(), failingReceiver.stop()]);
});

function policies(): ReturnType<typeof resolver> {
  const ref = (key: string) => ({ name: 'rollguard-notify', key });
  const bot = { botToken: ref('bot-token'), signingSecret: ref('signing-secret'), channel: '#deploys' };
  const set = parsePolicySet({
    default: { notifications: { slack: bot, webhook: { url: receiver.url, secret: ref('hmac'), maxAttempts: 2 }, pageUrl: 'https://rollguard.example.com' } },
    namespaces: {
      hook: { notifications: { slack: { webhookUrl: ref('hook-url') } } },
      deadhook: { notifications: { slack: { webhookUrl: ref('dead-hook-url') } } },
      badhook: { notifications: { slack: { webhookUrl: ref('bad-hook-url') } } },
      failing: { notifications: { webhook: { url: failingReceiver.url, secret: ref('hmac'), maxAttempts: 2 } } },
      unreachable: { notifications: { webhook: { url: 'http://127.0.0.1:9/none', secret: ref('hmac'), maxAttempts: 2 } } },
      nosecret: { notifications: { webhook: { url: receiver.url, secret: ref('missing'), maxAttempts: 1 }, slack: { ...bot, botToken: ref('missing-token') } } },
    },
  });
  if (!set.ok) throw new Error(set.errors.join('\n'));
  return resolver(set.set);
}

describe('F3 notification credentials stay secret', () => {
  it('appear in no log line on any delivery path, and only where they belong on the wire', async () => {
    const { logger, lines } = capturedLogger();
    const secrets = new FakeSecrets({
      'rollguard-notify/bot-token': BOT_TOKEN,
      'rollguard-notify/signing-secret': SIGNING,
      'rollguard-notify/hmac': HMAC,
      'rollguard-notify/hook-url': `http://127.0.0.1:${slack.port}/services/T0/B0/${HOOK_PATH}`,
      'rollguard-notify/dead-hook-url': `http://127.0.0.1:${slack.port}/services/T0/B0/${HOOK_PATH}-revoked`,
      'rollguard-notify/bad-hook-url': `http://hooks.example.net/services/T0/B0/${HOOK_PATH}`,
    });
    const policyFor = policies();
    const sinksFor = (apiBase: string) => new NotificationSinks({ policyFor, secrets, logger, slack: { apiBase, backoffMs: () => 5 }, webhook: { baseDelayMs: 5 } });
    const good = sinksFor(slack.apiBase);
    const wrongToken = sinksFor(wrongTokenSlack.apiBase);
    const unreachableSlack = sinksFor('http://127.0.0.1:9/api');
    const paths = ['shop', 'hook', 'deadhook', 'badhook', 'failing', 'unreachable', 'nosecret'];
    let i = 0;
    for (const sinks of [good, wrongToken, unreachableSlack]) {
      for (const ns of paths) {
        const id = (i++).toString(16).padStart(16, '0');
        await sinks.publish(recordOf(blockedByConfig, { id, namespace: ns }), 'opened');
        await sinks.publish(recordOf(blockedByConfig, { id, namespace: ns, state: 'applied', stateReason: 'applied by alice' }), 'applied');
      }
      slack.failNext(2, 500);
      await sinks.publish(recordOf(blockedByConfig, { id: 'ffffffffffffffff', namespace: 'shop', deployment: 'other' }), 'opened');
      await sinks.idle();
    }

    // The paths ran: posted, refused, failed, gave up.
    expect(slack.messages.size).toBeGreaterThan(0);
    expect(slack.webhookPosts.length).toBeGreaterThan(0);
    expect(receiver.received.length).toBeGreaterThan(0);
    const log = lines.join('\n');
    for (const expected of ['invalid_auth', 'unreachable', 'no_service', 'must be https://', 'HTTP 500', 'giving up', 'does not exist']) expect(log).toContain(expected);

    for (const c of CANARIES) for (const f of forms(c)) expect(log.includes(f), `a log line contains a form of ${c}`).toBe(false);

    // On the wire: the bot token only as Slack's bearer, the HMAC secret never (only signatures).
    for (const r of [...slack.requests, ...wrongTokenSlack.requests]) {
      expect(JSON.stringify(r.body)).not.toContain(BOT_TOKEN);
      expect(JSON.stringify(r.body)).not.toContain(SIGNING);
      expect(JSON.stringify(r.body)).not.toContain(HMAC);
      if (r.authorization !== undefined) expect(r.authorization).toBe(`Bearer ${BOT_TOKEN}`);
    }
    for (const r of [...receiver.received, ...failingReceiver.received]) {
      const wire = JSON.stringify(r.headers) + r.raw;
      for (const c of CANARIES) expect(wire).not.toContain(c);
    }
  });
});
