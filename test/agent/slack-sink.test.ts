import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DecisionRecord } from '../../src/agent/decision-record.js';
import { SlackApi } from '../../src/agent/slack/api.js';
import { SLACK_ACTIONS } from '../../src/agent/slack/blocks.js';
import { SlackSink, type SlackSettings } from '../../src/agent/slack/sink.js';
import type { SlackNotifications } from '../../src/core/notifications-policy.js';
import { min } from '../support/builders.js';
import { buttonsOf } from '../support/block-kit.js';
import { blockedByConfig, recordOf, rolledBackWithHandoff } from '../support/decision-fixtures.js';
import { FakeSecrets } from '../support/fake-secrets.js';
import { FakeSlack } from '../support/fake-slack.js';
import { capturedLogger } from '../support/log-capture.js';

// The Slack sink against a fake Slack on 127.0.0.1 that checks the bearer token, the JSON body,
// the channel, Block Kit and the ts of every update, as Slack does.

const TOKEN = 'xoxb-test-0000-bot-token';
const HOOK_SECRET = 'hook-secret-4711';
const PAGE = 'https://rollguard.example.com';

const BOT: SlackNotifications = { botToken: { name: 'slack', key: 'bot-token' }, signingSecret: { name: 'slack', key: 'signing-secret' }, channel: '#deploys' };

let slack: FakeSlack;
let logs: string[];

function sinkWith(settings: (ns: string) => SlackSettings, secrets = new FakeSecrets({ 'slack/bot-token': TOKEN, 'slack/signing-secret': 'sign-me', 'slack/webhook-url': slack.webhookUrl })): SlackSink {
  const captured = capturedLogger();
  logs = captured.lines;
  return new SlackSink({ settingsFor: settings, secrets, api: new SlackApi({ apiBase: slack.apiBase, backoffMs: () => 20 }), logger: captured.logger });
}

const bot = (overrides: Partial<SlackNotifications> = {}) => () => ({ slack: { ...BOT, ...overrides }, pageUrl: PAGE });

function buttonsOfLast(channel: string, ts: string): string[] {
  return buttonsOf(slack.messages.get(`${channel}/${ts}`)?.blocks).map((b) => String(b.action_id));
}

beforeEach(async () => {
  slack = await new FakeSlack({ token: TOKEN, channels: ['#deploys', '#shop'], webhookSecret: HOOK_SECRET }).start();
});
afterEach(async () => {
  await slack.stop();
});

describe('R10 Slack with a bot token: one decision is one message', () => {
  it('posts once with chat.postMessage, then edits it in place with chat.update on every change', async () => {
    const sink = sinkWith(bot());
    const record = recordOf();
    await sink.publish(record, 'opened');
    const at = sink.messageOf(record.id);
    expect(at).toEqual({ channel: 'CDEPLOYS', ts: '1700000000.000001' });
    expect(buttonsOfLast('CDEPLOYS', at?.ts ?? '')).toEqual([SLACK_ACTIONS.apply, SLACK_ACTIONS.dismiss, SLACK_ACTIONS.open]);

    await sink.publish({ ...record, decision: { ...blockedByConfig, summary: 'suggest: now also a latency regression' } }, 'changed');
    await sink.publish({ ...record, state: 'applied', stateReason: 'applied by alice at 2026-03-02T10:07:00Z via slack: rolled back from revision 7 to 6' }, 'applied');

    expect(slack.calls('chat.postMessage')).toHaveLength(1);
    expect(slack.calls('chat.update')).toHaveLength(2);
    expect(slack.calls('chat.update').map((r) => [r.body?.channel, r.body?.ts])).toEqual([
      ['CDEPLOYS', '1700000000.000001'],
      ['CDEPLOYS', '1700000000.000001'],
    ]);
    const message = slack.messages.get('CDEPLOYS/1700000000.000001');
    expect(message?.versions).toHaveLength(3);
    expect(JSON.stringify(message?.blocks)).toContain('applied by alice at 2026-03-02T10:07:00Z via slack');
    expect(buttonsOfLast('CDEPLOYS', '1700000000.000001')).toEqual([]);
    for (const r of slack.requests) {
      expect(r.authorization).toBe(`Bearer ${TOKEN}`);
      expect(r.contentType).toMatch(/^application\/json/);
    }
    expect(logs.filter((l) => l.includes('"level":40'))).toEqual([]);
  });

  it('R9 the handoff edits the rollback’s own message', async () => {
    const sink = sinkWith(bot());
    const handoff = rolledBackWithHandoff();
    await sink.publish({ ...handoff, handoff: undefined }, 'rolled-back');
    await sink.publish(handoff, 'handoff');
    expect(slack.calls('chat.postMessage')).toHaveLength(1);
    expect(slack.calls('chat.update')).toHaveLength(1);
    expect(JSON.stringify(slack.messages.get('CDEPLOYS/1700000000.000001')?.blocks)).toContain('*Handoff*: error rate');
  });

  it('sends nothing for a republished state that changes nothing (never a message per evaluation)', async () => {
    const sink = sinkWith(bot());
    for (let i = 0; i < 5; i++) await sink.publish(recordOf(), i === 0 ? 'opened' : 'changed');
    expect(slack.calls('chat.postMessage')).toHaveLength(1);
    expect(slack.calls('chat.update')).toHaveLength(0);
  });

  it('F4 says again where its message is while the decision does not keep it (the first note was not written), and not once it does', async () => {
    const sink = sinkWith(bot());
    const notes: unknown[] = [];
    sink.onDelivered((d) => notes.push(d));
    const record = recordOf();
    await sink.publish(record, 'opened');
    const at = { channel: 'CDEPLOYS', ts: '1700000000.000001' };
    expect(notes).toEqual([{ id: record.id, slack: at }]);
    // Republished unchanged (the next takeover's catch-up): nothing sent to Slack, the ts noted again.
    await sink.publish(record, 'opened');
    expect(notes).toEqual([{ id: record.id, slack: at }, { id: record.id, slack: at }]);
    await sink.publish({ ...record, notifications: { slack: at } }, 'opened');
    expect(notes).toHaveLength(2);
    expect(slack.calls('chat.postMessage')).toHaveLength(1);
    expect(slack.calls('chat.update')).toHaveLength(0);
  });

  it('marks the older message superseded when a newer decision for the same Deployment opens', async () => {
    const sink = sinkWith(bot());
    await sink.publish(recordOf(), 'opened');
    await sink.publish(recordOf(blockedByConfig, { id: 'fedcba9876543210', firstDecidedAt: min(20), lastEvaluatedAt: min(20) }), 'opened');
    expect(slack.calls('chat.postMessage')).toHaveLength(2);
    expect(slack.calls('chat.update')).toHaveLength(1);
    const old = slack.messages.get('CDEPLOYS/1700000000.000001');
    expect(JSON.stringify(old?.blocks)).toContain('Superseded: shop/checkout');
    expect(JSON.stringify(old?.blocks)).toContain('superseded by decision fedcba9876543210');
    expect(buttonsOfLast('CDEPLOYS', '1700000000.000001')).toEqual([]);
  });

  it('does not post a message for the end of a decision nobody was shown', async () => {
    const sink = sinkWith(bot());
    await sink.publish(recordOf(blockedByConfig, { state: 'expired', stateReason: 'expired' }), 'expired');
    await sink.publish(recordOf(blockedByConfig, { state: 'superseded', stateReason: 'superseded' }), 'superseded');
    expect(slack.requests).toHaveLength(0);
  });

  it('honours 429 Retry-After before posting again', async () => {
    const sink = sinkWith(bot());
    slack.failNext(1, 429, '1');
    await sink.publish(recordOf(), 'opened');
    const posts = slack.calls('chat.postMessage');
    expect(posts).toHaveLength(2);
    expect((posts[1]?.at ?? 0) - (posts[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(slack.messages.size).toBe(1);
  });

  it('retries a 5xx and then posts', async () => {
    const sink = sinkWith(bot());
    slack.failNext(2, 503);
    await sink.publish(recordOf(), 'opened');
    expect(slack.calls('chat.postMessage')).toHaveLength(3);
    expect(slack.messages.size).toBe(1);
  });

  it('delivers only the latest state when it changes while Slack makes it wait', async () => {
    const sink = sinkWith(bot());
    slack.failNext(1, 429, '2');
    const first = sink.publish(recordOf(), 'opened');
    await new Promise((r) => setTimeout(r, 100));
    await sink.publish(recordOf(blockedByConfig, { state: 'applied', stateReason: 'applied by alice at 2026-03-02T10:07:00Z via slack' }), 'applied');
    await first;
    expect(slack.messages.size).toBe(1);
    expect(JSON.stringify([...slack.messages.values()][0]?.blocks)).toContain('applied by alice');
    expect(slack.calls('chat.update')).toHaveLength(0);
  });

  it('posts again when the message was deleted in Slack, and then updates the new one', async () => {
    const sink = sinkWith(bot());
    const record = recordOf();
    await sink.publish(record, 'opened');
    slack.deleteMessage('CDEPLOYS', '1700000000.000001');
    await sink.publish({ ...record, state: 'dismissed', stateReason: 'dismissed by bob' }, 'dismissed');
    expect(sink.messageOf(record.id)).toEqual({ channel: 'CDEPLOYS', ts: '1700000000.000002' });
    expect(slack.calls('chat.postMessage')).toHaveLength(2);
  });

  it('shows no buttons without a signing secret (their callbacks could not be verified)', async () => {
    const sink = sinkWith(bot({ signingSecret: undefined }));
    await sink.publish(recordOf(), 'opened');
    expect(buttonsOfLast('CDEPLOYS', '1700000000.000001')).toEqual([]);
  });

  it('posts to the channel of the decision’s namespace, and not at all where Slack is not configured', async () => {
    const sink = sinkWith((ns) => (ns === 'shop' ? { slack: { ...BOT, channel: '#shop' }, pageUrl: PAGE } : ns === 'ops' ? { slack: BOT, pageUrl: PAGE } : { slack: undefined, pageUrl: undefined }));
    await sink.publish(recordOf(), 'opened');
    await sink.publish(recordOf(blockedByConfig, { id: 'aaaaaaaaaaaaaaaa', namespace: 'ops' }), 'opened');
    await sink.publish(recordOf(blockedByConfig, { id: 'bbbbbbbbbbbbbbbb', namespace: 'quiet' }), 'opened');
    expect(slack.calls('chat.postMessage').map((r) => r.body?.channel)).toEqual(['#shop', '#deploys']);
    expect(sink.configured('quiet')).toBe(false);
  });

  it('logs a Slack error code (a wrong channel) and carries on', async () => {
    const sink = sinkWith(bot({ channel: '#nowhere' }));
    await sink.publish(recordOf(), 'opened');
    expect(logs.some((l) => l.includes('channel_not_found') && l.includes('"decision":"0123456789abcdef"'))).toBe(true);
  });
});

describe('R10 Slack with an incoming webhook: notify only', () => {
  const hook = () => ({ slack: { webhookUrl: { name: 'slack', key: 'webhook-url' } }, pageUrl: PAGE });

  it('posts when the decision opens and once for its outcome, without buttons and without a token', async () => {
    const sink = sinkWith(hook);
    const record: DecisionRecord = recordOf();
    await sink.publish(record, 'opened');
    await sink.publish({ ...record, decision: { ...blockedByConfig, summary: 'suggest: changed wording' } }, 'changed');
    await sink.publish(record, 'changed');
    const applied = { ...record, state: 'applied' as const, stateReason: 'applied by alice at 2026-03-02T10:07:00Z via web' };
    await sink.publish(applied, 'applied');
    await sink.publish(applied, 'applied');
    expect(slack.webhookPosts).toHaveLength(2);
    expect(slack.webhookPosts.flatMap((p) => buttonsOf(p.blocks))).toEqual([]);
    expect(JSON.stringify(slack.webhookPosts[1]?.blocks)).toContain('applied by alice');
    expect(JSON.stringify(slack.webhookPosts[0]?.blocks)).toContain(`${PAGE}/decisions/0123456789abcdef`);
    expect(slack.requests.every((r) => r.authorization === undefined)).toBe(true);
  });

  it('R9 posts the rollback, then each new handoff assessment once', async () => {
    const sink = sinkWith(hook);
    const first = rolledBackWithHandoff(1);
    await sink.publish({ ...first, handoff: undefined }, 'rolled-back');
    await sink.publish(first, 'handoff');
    await sink.publish(first, 'handoff');
    await sink.publish(rolledBackWithHandoff(2), 'handoff');
    expect(slack.webhookPosts).toHaveLength(3);
    expect(JSON.stringify(slack.webhookPosts[1]?.blocks)).toContain('*Handoff*');
  });

  it('does not post superseded: the newer decision’s own message says it', async () => {
    const sink = sinkWith(hook);
    await sink.publish(recordOf(), 'opened');
    await sink.publish(recordOf(blockedByConfig, { id: 'fedcba9876543210', firstDecidedAt: min(20) }), 'opened');
    expect(slack.webhookPosts).toHaveLength(2);
    expect(slack.webhookPosts.map((p) => String(p.text))).toEqual([expect.stringMatching(/^Rollback needs a human/), expect.stringMatching(/^Rollback needs a human/)]);
  });

  it('refuses a non-loopback http:// URL from the Secret, saying so without repeating it', async () => {
    const secrets = new FakeSecrets({ 'slack/webhook-url': 'http://hooks.example.net/services/T0/B0/leaky-secret-path' });
    const sink = sinkWith(hook, secrets);
    await sink.publish(recordOf(), 'opened');
    expect(slack.requests).toHaveLength(0);
    const line = logs.find((l) => l.includes('incoming-webhook URL'));
    expect(line).toMatch(/must be https:\/\//);
    expect(logs.join('\n')).not.toContain('leaky-secret-path');
  });
});
