import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSlack } from '../../src/check/slack-checks.js';
import type { NotificationPolicy } from '../../src/core/notifications-policy.js';
import { DEFAULT_POLICY, type Policy } from '../../src/core/policy.js';
import { FakeSecrets } from '../support/fake-secrets.js';
import { FakeSlack } from '../support/fake-slack.js';
import { freePort } from '../support/process.js';

// `rollguard check`'s Slack item: the bot token the cluster policy names is read from its Secret
// and Slack's auth.test accepts it; every ✗ says what to change.

const slack = new FakeSlack({ token: 'xoxb-good', channels: ['#deploys'] });
beforeAll(async () => {
  await slack.start();
});
afterAll(async () => {
  await slack.stop();
});

const policy = (notifications: Partial<NotificationPolicy>): Policy => ({ ...DEFAULT_POLICY, notifications: { ...DEFAULT_POLICY.notifications, ...notifications } });
const withToken = policy({ slack: { botToken: { name: 'rollguard-slack', key: 'bot-token' }, channel: '#deploys' } });
const target = (p: Policy) => ({ policy: p, policyFrom: 'ClusterRollbackPolicy default', namespace: 'rollguard' });

describe('F1 rollguard check: Slack credentials work', () => {
  it('F1 ✓ when auth.test accepts the token, naming the bot and the workspace', async () => {
    const r = await checkSlack(target(withToken), new FakeSecrets({ 'rollguard-slack/bot-token': 'xoxb-good' }), slack.apiBase);
    expect(r).toMatchObject({ status: 'pass', detail: 'the token in key "bot-token" of Secret rollguard/rollguard-slack is the bot user rollguard of workspace Fake Workspace' });
    expect(slack.calls('auth.test').at(-1)?.authorization).toBe('Bearer xoxb-good');
  });

  it('F1 ✗ a revoked or wrong token: Slack\'s refusal, and the fix names the Secret to put the xoxb- token into', async () => {
    const r = await checkSlack(target(withToken), new FakeSecrets({ 'rollguard-slack/bot-token': 'xoxb-old' }), slack.apiBase);
    expect(r).toMatchObject({ status: 'fail', detail: 'Slack refuses the token in key "bot-token" of Secret rollguard/rollguard-slack: invalid_auth' });
    expect(r.fix).toMatch(/Bot User OAuth Token \(xoxb-…\) into key "bot-token" of Secret rollguard\/rollguard-slack/);
    expect(JSON.stringify(r)).not.toContain('xoxb-old');
  });

  it('F1 ✗ a missing Secret: the read error, and the fix says which Secret and that reading it needs get on Secrets', async () => {
    const r = await checkSlack(target(withToken), new FakeSecrets({}), slack.apiBase);
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(/Secret does not exist/);
    expect(r.fix).toMatch(/get on Secrets in rollguard/);
  });

  it('F1 ✗ Slack unreachable: the fix is about egress', async () => {
    const r = await checkSlack(target(withToken), new FakeSecrets({ 'rollguard-slack/bot-token': 'xoxb-good' }), `http://127.0.0.1:${String(await freePort())}/api`);
    expect(r.status).toBe('fail');
    expect(r.fix).toMatch(/reachable from where the agent runs/);
  });

  it('F1 – skipped when the policy sends nothing to Slack, saying how to enable it', async () => {
    const r = await checkSlack(target(policy({})), new FakeSecrets({}), slack.apiBase);
    expect(r).toMatchObject({ status: 'skip', detail: 'no Slack in the notifications of ClusterRollbackPolicy default' });
    expect(r.fix).toMatch(/notifications\.slack\.botToken/);
  });
});
