import { describe, expect, it } from 'vitest';
import { parsePolicySet } from '../../src/policy/policy-file.js';
import { DEFAULT_POLICY, parsePolicy } from '../../src/core/policy.js';

// The policy's `notifications` section (R10, R11): where decisions go, per namespace over the
// cluster default, credentials only as Secret references (F3).

const TOKEN_REF = { name: 'rollguard-slack', key: 'bot-token' };
const INLINE = 'xoxb-1234-inline-token-do-not-echo';

function ok(input: unknown, base = DEFAULT_POLICY) {
  const r = parsePolicy(input, base);
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.policy;
}

describe('R11 the notifications policy (R10, F3)', () => {
  it('defaults: no channel, decisions expire after 1h, no Slack users', () => {
    expect(DEFAULT_POLICY.notifications).toEqual({ decisionTtlMs: 3_600_000, slackUsers: {} });
    expect(ok({}).notifications).toEqual({ slack: undefined, webhook: undefined, pageUrl: undefined, decisionTtlMs: 3_600_000, slackUsers: {} });
  });

  it('reads every field', () => {
    const n = ok({
      notifications: {
        slack: { botToken: TOKEN_REF, signingSecret: { name: 'rollguard-slack', key: 'signing-secret' }, channel: '#deploys' },
        webhook: { url: 'https://hooks.example.com/rollguard', secret: { name: 'rollguard-webhook', key: 'hmac' }, maxAttempts: 8 },
        pageUrl: 'https://rollguard.example.com/',
        decisionTtl: '30m',
        slackUsers: { U024BE7LH: { user: 'alice@example.com', groups: ['oncall'] }, 'bob@example.com': { user: 'bob' } },
      },
    }).notifications;
    expect(n).toEqual({
      slack: { botToken: TOKEN_REF, webhookUrl: undefined, signingSecret: { name: 'rollguard-slack', key: 'signing-secret' }, channel: '#deploys' },
      webhook: { url: 'https://hooks.example.com/rollguard', secret: { name: 'rollguard-webhook', key: 'hmac' }, maxAttempts: 8 },
      pageUrl: 'https://rollguard.example.com',
      decisionTtlMs: 1_800_000,
      slackUsers: { U024BE7LH: { user: 'alice@example.com', groups: ['oncall'] }, 'bob@example.com': { user: 'bob', groups: [] } },
    });
  });

  it('webhook: maxAttempts defaults to 5; plain http only to loopback', () => {
    expect(ok({ notifications: { webhook: { url: 'http://127.0.0.1:9000/hook' } } }).notifications.webhook).toEqual({ url: 'http://127.0.0.1:9000/hook', secret: undefined, maxAttempts: 5 });
    expect(ok({ notifications: { webhook: { url: 'http://[::1]:9000/hook' } } }).notifications.webhook?.url).toBe('http://[::1]:9000/hook');
    expect(ok({ notifications: { webhook: { url: 'http://localhost:9000/hook' } } }).notifications.webhook?.url).toBe('http://localhost:9000/hook');
  });

  describe('a namespace overrides the cluster default', () => {
    const cluster = ok({
      notifications: {
        slack: { botToken: TOKEN_REF, signingSecret: { name: 'rollguard-slack', key: 'signing-secret' }, channel: '#deploys' },
        webhook: { url: 'https://hooks.example.com/a', secret: { name: 'hooks', key: 'a' } },
        pageUrl: 'https://rollguard.example.com',
        slackUsers: { U0ALICE: { user: 'alice' } },
      },
    });

    it.each([
      ['its own channel, the inherited bot token', { slack: { channel: '#payments' } }, (n: typeof cluster.notifications) => {
        expect(n.slack).toMatchObject({ botToken: TOKEN_REF, channel: '#payments' });
      }],
      ['Slack off', { slack: null }, (n: typeof cluster.notifications) => {
        expect(n.slack).toBeUndefined();
        expect(n.webhook?.url).toBe('https://hooks.example.com/a');
      }],
      ['its own incoming webhook: no inherited token, signing secret or channel', { slack: { webhookUrl: { name: 'pay-hook', key: 'url' } } }, (n: typeof cluster.notifications) => {
        expect(n.slack).toEqual({ webhookUrl: { name: 'pay-hook', key: 'url' }, botToken: undefined, signingSecret: undefined, channel: undefined });
      }],
      ['its own webhook, replaced whole (the secret is not inherited)', { webhook: { url: 'https://pay.example.com/hook' } }, (n: typeof cluster.notifications) => {
        expect(n.webhook).toEqual({ url: 'https://pay.example.com/hook', secret: undefined, maxAttempts: 5 });
      }],
      ['more Slack users, a longer TTL', { slackUsers: { U0BOB: { user: 'bob', groups: ['payments'] } }, decisionTtl: '2h' }, (n: typeof cluster.notifications) => {
        expect(n.slackUsers).toEqual({ U0ALICE: { user: 'alice', groups: [] }, U0BOB: { user: 'bob', groups: ['payments'] } });
        expect(n.decisionTtlMs).toBe(7_200_000);
        expect(n.pageUrl).toBe('https://rollguard.example.com');
      }],
    ] as const)('%s', (_name, input, check) => {
      check(ok({ notifications: input }, cluster).notifications);
    });

    it('through the policy file, errors naming the namespace', () => {
      const r = parsePolicySet({
        default: { notifications: { slack: { botToken: TOKEN_REF, channel: '#deploys' } } },
        namespaces: { shop: { notifications: { slack: { channel: 'Not A Channel' } } }, pay: { notifications: { slack: { webhookUrl: { name: 'h', key: 'u' }, signingSecret: { name: 's', key: 'k' } } } } },
      });
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.errors).toContainEqual(expect.stringMatching(/^namespaces\.shop\.notifications\.slack\.channel: notifications\.slack\.channel must be a channel id/));
        expect(r.errors).toContainEqual(expect.stringMatching(/^namespaces\.pay\.notifications\.slack\.signingSecret: only used with botToken/));
      }
    });
  });

  it.each([
    ['an inline bot token', { slack: { botToken: INLINE, channel: '#deploys' } }, /^notifications\.slack\.botToken: notifications\.slack\.botToken must reference a Secret in rollguard's own namespace as \{ name, key \}; an inline value is not accepted: credentials never go in the policy \(F3\)$/],
    ['an inline webhook secret', { webhook: { url: 'https://h.example.com', secret: INLINE } }, /^notifications\.webhook\.secret: .*an inline value is not accepted/],
    ['an inline signing secret', { slack: { botToken: TOKEN_REF, channel: '#d', signingSecret: INLINE } }, /^notifications\.slack\.signingSecret: .*an inline value is not accepted/],
    ['a value beside the reference', { slack: { botToken: { ...TOKEN_REF, value: INLINE }, channel: '#d' } }, /^notifications\.slack\.botToken: Unrecognized key: "value"/],
    ['a Secret name that is not one', { slack: { botToken: { name: 'Slack_Token', key: 'k' }, channel: '#d' } }, /^notifications\.slack\.botToken\.name: notifications\.slack\.botToken\.name must be a Secret name/],
    ['a Secret key that is not one', { slack: { botToken: { name: 's', key: 'a/b' }, channel: '#d' } }, /^notifications\.slack\.botToken\.key: /],
    ['a bot token without a channel', { slack: { botToken: TOKEN_REF } }, /^notifications\.slack\.channel: required with botToken/],
    ['both a bot token and an incoming webhook', { slack: { botToken: TOKEN_REF, webhookUrl: { name: 'h', key: 'u' }, channel: '#d' } }, /^notifications\.slack: botToken and webhookUrl exclude each other/],
    ['neither', { slack: { channel: '#d' } }, /^notifications\.slack: needs botToken \(with channel\) or webhookUrl/],
    ['a channel for an incoming webhook', { slack: { webhookUrl: { name: 'h', key: 'u' }, channel: '#d' } }, /^notifications\.slack\.channel: not used with webhookUrl/],
    ['a signing secret without a bot token', { slack: { webhookUrl: { name: 'h', key: 'u' }, signingSecret: { name: 's', key: 'k' } } }, /^notifications\.slack\.signingSecret: only used with botToken/],
    ['a channel that is not one', { slack: { botToken: TOKEN_REF, channel: 'deploys and more' } }, /^notifications\.slack\.channel: /],
    ['a webhook over plain http elsewhere', { webhook: { url: 'http://hooks.example.com/x' } }, /^notifications\.webhook\.url: notifications\.webhook\.url must be https:\/\/ \(plain http:\/\/ only to a loopback address\)$/],
    ['a webhook URL with credentials', { webhook: { url: `https://user:${INLINE}@hooks.example.com/` } }, /^notifications\.webhook\.url: notifications\.webhook\.url must not carry credentials/],
    ['a webhook URL that is not one', { webhook: { url: 'hooks' } }, /^notifications\.webhook\.url: notifications\.webhook\.url is not an absolute URL$/],
    ['no webhook URL', { webhook: { maxAttempts: 3 } }, /^notifications\.webhook\.url: /],
    ['zero attempts', { webhook: { url: 'https://h.example.com', maxAttempts: 0 } }, /^notifications\.webhook\.maxAttempts: notifications\.webhook\.maxAttempts must be at least 1/],
    ['a page URL with a query', { pageUrl: 'https://rollguard.example.com/?x=1' }, /^notifications\.pageUrl: notifications\.pageUrl must be a base URL without query or fragment/],
    ['a page URL over plain http elsewhere', { pageUrl: 'http://rollguard.example.com' }, /^notifications\.pageUrl: notifications\.pageUrl must be https:\/\//],
    ['a TTL that is no duration', { decisionTtl: 'soon' }, /^notifications\.decisionTtl: notifications\.decisionTtl must be a duration/],
    ['a TTL too short to act in', { decisionTtl: '30s' }, /^notifications\.decisionTtl: notifications\.decisionTtl must be at least 1m/],
    ['a Slack user key that is neither id nor email', { slackUsers: { bob: { user: 'bob' } } }, /^notifications\.slackUsers\.bob: notifications\.slackUsers keys are Slack user ids/],
    ['a Slack user without a Kubernetes user', { slackUsers: { U0BOB: { groups: ['a'] } } }, /^notifications\.slackUsers\.U0BOB\.user: /],
    ['an empty group', { slackUsers: { U0BOB: { user: 'bob', groups: [''] } } }, /^notifications\.slackUsers\.U0BOB\.groups\[0\]: /],
    ['an unknown field', { teams: { url: 'https://x.example.com' } }, /^notifications: Unrecognized key: "teams"/],
  ])('rejects %s with the field path', (_name, notifications, message) => {
    const r = parsePolicy({ notifications });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.join('\n')).toMatch(message);
    expect(r.errors.join('\n')).not.toContain(INLINE);
  });
});
