import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicySet, resolver } from '../../src/policy/policy-file.js';
import { NotificationSinks } from '../../src/agent/notification-sinks.js';
import { SLACK_ACTIONS } from '../../src/agent/slack/blocks.js';
import type { DecisionPayloadV1 } from '../../src/agent/webhook-payload.js';
import type { Policy } from '../../src/core/policy.js';
import { buttonsOf } from '../support/block-kit.js';
import { recordOf } from '../support/decision-fixtures.js';
import { DecisionReceiver } from '../support/decision-receiver.js';
import { FakeSecrets } from '../support/fake-secrets.js';
import { FakeSlack } from '../support/fake-slack.js';
import { capturedLogger } from '../support/log-capture.js';

// The agent's one notification sink: each decision goes to the channels its namespace's policy
// configures, read at delivery time.

const TOKEN = 'xoxb-factory-test-token';
const HMAC = 'factory-hmac';
let slack: FakeSlack;
let receiver: DecisionReceiver;

beforeAll(async () => {
  slack = await new FakeSlack({ token: TOKEN, channels: ['#deploys', '#shop'] }).start();
  receiver = await new DecisionReceiver(HMAC).start();
});
afterAll(async () => {
  await Promise.all([slack.stop(), receiver.stop()]);
});

function policy(doc: unknown): (ns: string) => Policy {
  const set = parsePolicySet(doc);
  if (!set.ok) throw new Error(set.errors.join('\n'));
  return resolver(set.set);
}

const ref = (key: string) => ({ name: 'rollguard-notify', key });
const secrets = new FakeSecrets({ 'rollguard-notify/bot-token': TOKEN, 'rollguard-notify/signing': 'sign', 'rollguard-notify/hmac': HMAC });

describe('R10 the channels come from the namespace’s policy', () => {
  it('none by default; Slack, the webhook, or both where the policy says', () => {
    const sinks = new NotificationSinks({
      policyFor: policy({
        namespaces: {
          chat: { notifications: { slack: { botToken: ref('bot-token'), channel: '#shop' } } },
          hooks: { notifications: { webhook: { url: receiver.url } } },
          both: { notifications: { slack: { botToken: ref('bot-token'), channel: '#shop' }, webhook: { url: receiver.url } } },
        },
      }),
      secrets,
      logger: capturedLogger().logger,
    });
    expect(sinks.sinksFor('elsewhere').map((s) => s.name)).toEqual([]);
    expect(sinks.sinksFor('chat').map((s) => s.name)).toEqual(['slack']);
    expect(sinks.sinksFor('hooks').map((s) => s.name)).toEqual(['webhook']);
    expect(sinks.sinksFor('both').map((s) => s.name)).toEqual(['slack', 'webhook']);
  });

  it('a reloaded policy applies to the next change', async () => {
    let current = policy({});
    const sinks = new NotificationSinks({ policyFor: (ns) => current(ns), secrets, logger: capturedLogger().logger, slack: { apiBase: slack.apiBase } });
    await sinks.publish(recordOf(undefined, { id: '1111111111111111' }), 'opened');
    expect(slack.requests).toHaveLength(0);
    current = policy({ default: { notifications: { slack: { botToken: ref('bot-token'), channel: '#deploys' } } } });
    await sinks.publish(recordOf(undefined, { id: '1111111111111111' }), 'changed');
    expect(slack.calls('chat.postMessage')).toHaveLength(1);
  });

  it('a regression blocked by a ConfigMap change: one Slack message with everything, and the signed JSON', async () => {
    slack.requests.length = 0;
    const sinks = new NotificationSinks({
      policyFor: policy({
        default: {
          notifications: {
            slack: { botToken: ref('bot-token'), signingSecret: ref('signing'), channel: '#deploys' },
            webhook: { url: receiver.url, secret: ref('hmac') },
            pageUrl: 'https://rollguard.example.com',
          },
        },
        namespaces: { shop: { notifications: { slack: { channel: '#shop' } } } },
      }),
      secrets,
      logger: capturedLogger().logger,
      slack: { apiBase: slack.apiBase },
    });
    const record = recordOf(undefined, { id: '2222222222222222' });
    await sinks.publish(record, 'opened');
    const posts = slack.calls('chat.postMessage');
    expect(posts).toHaveLength(1);
    expect(posts[0]?.body?.channel).toBe('#shop');
    const blocks = JSON.stringify(posts[0]?.body?.blocks);
    expect(blocks).toContain('✗ *R3 pod-spec-only change set*: ConfigMap app-config');
    expect(blocks).toContain('```kubectl rollout undo deployment/checkout -n shop --to-revision=6```');
    expect(blocks).toContain('*Blast radius*');
    expect(blocks).toContain('*Confidence*');
    expect(blocks).toContain('https://rollguard.example.com/decisions/2222222222222222');
    expect(buttonsOf(posts[0]?.body?.blocks).map((b) => b.action_id)).toEqual([SLACK_ACTIONS.apply, SLACK_ACTIONS.dismiss, SLACK_ACTIONS.open]);
    const got = receiver.received.at(-1);
    expect(got?.signature).toEqual({ ok: true });
    expect((got?.body as DecisionPayloadV1).decision).toMatchObject({ id: '2222222222222222', verdict: 'suggest', url: 'https://rollguard.example.com/decisions/2222222222222222' });
  });
});
