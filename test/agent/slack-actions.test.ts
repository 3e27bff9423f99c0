import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionResult } from '../../src/agent/apply.js';
import { recordOf } from '../support/decision-fixtures.js';
import { SlackActions } from '../../src/agent/slack/actions.js';
import { SlackApi } from '../../src/agent/slack/api.js';
import { SlackUserResolver } from '../../src/agent/slack/users.js';
import { ReplayGuard, slackSignature, verifySlackRequest } from '../../src/agent/slack/verify.js';
import type { Identity } from '../../src/kube/auth-reviews.js';
import { parsePolicy } from '../../src/core/policy.js';
import { blockedByConfig } from '../support/decision-fixtures.js';
import { FakeSecrets } from '../support/fake-secrets.js';
import { FakeSlack } from '../support/fake-slack.js';
import { capturedLogger } from '../support/log-capture.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'slack-signing-secret-value';
const NOW = 1_790_000_000;

describe('R10 Slack request signatures', () => {
  const body = 'payload=%7B%7D';
  const ts = String(NOW);
  const good = slackSignature(SECRET, ts, body);

  it.each([
    ['a valid request', ts, good, body, NOW, true],
    ['a request 5 minutes and 1 s old', String(NOW - 301), slackSignature(SECRET, String(NOW - 301), body), body, NOW, false],
    ['a forged signature', ts, slackSignature('another secret', ts, body), body, NOW, false],
    ['a changed body', ts, good, `${body}&x=1`, NOW, false],
    ['no timestamp', undefined, good, body, NOW, false],
    ['no signature', ts, undefined, body, NOW, false],
  ] as const)('%s', (_label, timestamp, signature, text, now, ok) => {
    expect(verifySlackRequest({ secret: SECRET, timestamp, signature, body: text, nowSeconds: now, replays: new ReplayGuard() }).ok).toBe(ok);
  });

  it('refuses the same request twice (a replay)', () => {
    const replays = new ReplayGuard();
    expect(verifySlackRequest({ secret: SECRET, timestamp: ts, signature: good, body, nowSeconds: NOW, replays }).ok).toBe(true);
    expect(verifySlackRequest({ secret: SECRET, timestamp: ts, signature: good, body, nowSeconds: NOW + 1, replays })).toEqual({ ok: false, reason: 'this request was already received (a replay)' });
  });
});

describe('R10 the Slack Apply button', () => {
  let receiver: WebhookReceiver;
  const calls: { action: string; id: string; who: Identity; via: string }[] = [];
  const record = recordOf(blockedByConfig, { id: 'dec1', namespace: 'shop', deployment: 'checkout', firstDecidedAt: NOW * 1000 });
  const store = { get: (id: string) => (id === record.id ? record : undefined) };
  const policy = parsePolicy({ notifications: { slack: { botToken: { name: 'slack', key: 'token' }, channel: '#ops', signingSecret: { name: 'slack', key: 'signing' } }, slackUsers: { U0ALICE: { user: 'alice@example.com', groups: ['sre'] } } } });
  if (!policy.ok) throw new Error(policy.errors.join());
  const result = (ok: boolean): ActionResult => (ok ? { ok: true, message: 'applied by alice@example.com at T via slack', record } : { ok: false, status: 403, message: 'alice may not patch' });
  let next = true;
  let handler: SlackActions;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    handler = new SlackActions({
      store,
      actions: {
        apply: (id, who, via) => {
          calls.push({ action: 'apply', id, who, via });
          return Promise.resolve(result(next));
        },
        dismiss: (id, who, via) => {
          calls.push({ action: 'dismiss', id, who, via });
          return Promise.resolve(result(next));
        },
      },
      secrets: new FakeSecrets({ 'slack/signing': SECRET, 'slack/token': 'xoxb-token' }),
      // Every key is an id: never asked.
      users: new SlackUserResolver({ api: { lookupByEmail: () => Promise.reject(new Error('not looked up')) }, clock: () => NOW * 1000 }),
      policyFor: () => policy.policy,
      logger: pino({ level: 'silent' }),
      clock: () => NOW * 1000,
      allowedResponseOrigin: new URL(receiver.url).origin,
    });
  });

  afterAll(async () => {
    await receiver.stop();
  });

  function signed(user: string, actionId: string, opts: { ts?: number; secret?: string; responseUrl?: string } = {}) {
    const payload = { type: 'block_actions', user: { id: user }, actions: [{ action_id: actionId, value: 'dec1' }], response_url: opts.responseUrl ?? receiver.url };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const ts = String(opts.ts ?? NOW);
    return { body, headers: { 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(opts.secret ?? SECRET, ts, body) } };
  }

  it('a mapped user’s Apply runs the same Apply as the page, as their Kubernetes identity, and answers them privately', async () => {
    const before = receiver.received.length;
    const { body, headers } = signed('U0ALICE', 'rollguard_apply');
    const { reply, done } = await handler.handle(body, headers);
    expect(reply.status).toBe(200);
    await done;
    expect(calls.at(-1)).toEqual({ action: 'apply', id: 'dec1', who: { user: 'alice@example.com', groups: ['sre'] }, via: 'slack' });
    const answer = receiver.received.slice(before).at(-1)?.body as { response_type: string; text: string };
    expect(answer).toMatchObject({ response_type: 'ephemeral', text: 'Done: applied by alice@example.com at T via slack' });
  });

  it('an unauthorized user is told why, privately', async () => {
    next = false;
    const { body, headers } = signed('U0ALICE', 'rollguard_dismiss');
    await (await handler.handle(body, headers)).done;
    next = true;
    expect(calls.at(-1)?.action).toBe('dismiss');
    expect((receiver.received.at(-1)?.body as { text: string }).text).toBe('Nothing was done: alice may not patch');
  });

  it('an unmapped Slack user gets an explanation and nothing happens', async () => {
    const count = calls.length;
    const { body, headers } = signed('U0MALLORY', 'rollguard_apply');
    await (await handler.handle(body, headers)).done;
    expect(calls.length).toBe(count);
    expect((receiver.received.at(-1)?.body as { text: string }).text).toMatch(/U0MALLORY is not mapped to a Kubernetes identity .*notifications\.slackUsers.*nothing was done/);
  });

  it.each([
    ['stale', { ts: NOW - 600 }],
    ['forged', { secret: 'not the secret' }],
  ])('a %s request is refused before anything happens', async (_label, opts) => {
    const count = calls.length;
    const { body, headers } = signed('U0ALICE', 'rollguard_apply', opts);
    const { reply, done } = await handler.handle(body, headers);
    await done;
    expect(reply.status).toBe(401);
    expect(calls.length).toBe(count);
  });

  it('a replayed request is refused', async () => {
    const { body, headers } = signed('U0ALICE', 'rollguard_apply', { ts: NOW - 1 });
    expect((await handler.handle(body, headers)).reply.status).toBe(200);
    expect((await handler.handle(body, headers)).reply.status).toBe(401);
  });

  it('never posts an answer to a response_url outside Slack', async () => {
    const before = receiver.received.length;
    const { body, headers } = signed('U0ALICE', 'rollguard_apply', { ts: NOW - 2, responseUrl: 'http://127.0.0.2:9/elsewhere' });
    await (await handler.handle(body, headers)).done;
    expect(receiver.received.length).toBe(before);
  });
});

describe('R10 notifications.slackUsers email keys are looked up in Slack', () => {
  const TOKEN = 'xoxb-email-token';
  let receiver: WebhookReceiver;
  let slack: FakeSlack;
  let noScope: FakeSlack;
  const calls: { id: string; who: Identity }[] = [];
  const policy = parsePolicy({
    notifications: {
      slack: { botToken: { name: 'slack', key: 'token' }, channel: '#ops', signingSecret: { name: 'slack', key: 'signing' } },
      slackUsers: { 'gone@example.com': { user: 'gone' }, 'Bob@Example.com': { user: 'bob@example.com', groups: ['sre'] } },
    },
  });
  if (!policy.ok) throw new Error(policy.errors.join());
  const resolved = policy.policy;
  const record = recordOf(blockedByConfig, { id: 'dec1', namespace: 'shop', deployment: 'checkout', firstDecidedAt: NOW * 1000 });
  const store = { get: (id: string) => (id === record.id ? record : undefined) };
  let ts = NOW;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    slack = await new FakeSlack({ token: TOKEN, users: { 'bob@example.com': 'U0BOB', 'carol@example.com': 'U0CAROL' } }).start();
    noScope = await new FakeSlack({ token: TOKEN, users: { 'bob@example.com': 'U0BOB' }, scopes: ['chat:write'] }).start();
  });

  afterAll(async () => {
    await receiver.stop();
    await slack.stop();
    await noScope.stop();
  });

  function handlerFor(api: FakeSlack, opts: { maxLookupsPerMinute?: number } = {}) {
    const { logger, lines } = capturedLogger();
    const handler = new SlackActions({
      store,
      actions: {
        apply: (id, who) => {
          calls.push({ id, who });
          return Promise.resolve({ ok: true, message: 'applied', record });
        },
        dismiss: () => Promise.reject(new Error('not in these tests')),
      },
      secrets: new FakeSecrets({ 'slack/signing': SECRET, 'slack/token': TOKEN }),
      users: new SlackUserResolver({ api: new SlackApi({ apiBase: api.apiBase, maxAttempts: 1 }), clock: () => NOW * 1000, ...opts }),
      policyFor: () => resolved,
      logger,
      clock: () => NOW * 1000,
      allowedResponseOrigin: new URL(receiver.url).origin,
    });
    return { handler, lines };
  }

  /** One signed Apply click by `user`; resolves to the ephemeral answer's text. */
  async function click(handler: SlackActions, user: string): Promise<string> {
    const before = receiver.received.length;
    const payload = { type: 'block_actions', user: { id: user }, actions: [{ action_id: 'rollguard_apply', value: 'dec1' }], response_url: receiver.url };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    // A new timestamp per click: the same request twice would be a replay.
    const t = String(ts--);
    const { reply, done } = await handler.handle(body, { 'x-slack-request-timestamp': t, 'x-slack-signature': slackSignature(SECRET, t, body) });
    expect(reply.status).toBe(200);
    await done;
    expect(receiver.received.length).toBe(before + 1);
    return (receiver.received.at(-1)?.body as { text: string }).text;
  }

  it('R10 a Slack user whose id is not a key but whose email is acts as that identity; the second click is answered from the cache', async () => {
    const { handler } = handlerFor(slack);
    const lookups = () => slack.calls('users.lookupByEmail').length;
    expect(await click(handler, 'U0BOB')).toBe('Done: applied');
    expect(calls.at(-1)).toEqual({ id: 'dec1', who: { user: 'bob@example.com', groups: ['sre'] } });
    // gone@ (no such member) and bob@ (case-insensitive), each once, with the bot token.
    expect(lookups()).toBe(2);
    expect(slack.calls('users.lookupByEmail').map((r) => r.authorization)).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
    expect(await click(handler, 'U0BOB')).toBe('Done: applied');
    expect(lookups()).toBe(2);
  });

  it('R10 a Slack user no key names, by id or email, is told so and nothing is done; the not-found answers are kept', async () => {
    const { handler } = handlerFor(slack);
    const count = calls.length;
    const before = slack.calls('users.lookupByEmail').length;
    expect(await click(handler, 'U0CAROL')).toMatch(/U0CAROL is not mapped to a Kubernetes identity .*notifications\.slackUsers.*by id or by email.*nothing was done/);
    expect(calls.length).toBe(count);
    expect(slack.calls('users.lookupByEmail').length).toBe(before + 2);
    await click(handler, 'U0CAROL');
    expect(slack.calls('users.lookupByEmail').length).toBe(before + 2);
  });

  it('R10 an app without the users:read.email scope: the person is told the scope, the log says it, nothing is done', async () => {
    const { handler, lines } = handlerFor(noScope);
    const count = calls.length;
    const text = await click(handler, 'U0BOB');
    expect(text).toMatch(/lacks the users:read\.email scope.*nothing was done/);
    expect(calls.length).toBe(count);
    const line = lines.map((l) => JSON.parse(l) as { msg: string; reason?: string; slackUser?: string }).find((l) => l.reason === 'missing-scope');
    expect(line).toMatchObject({ msg: 'could not map a Slack user through notifications.slackUsers', slackUser: 'U0BOB' });
    expect(lines.join('\n')).not.toContain(TOKEN);
  });

  it('R10 lookups are limited per minute: past the limit the person is asked to press again, nothing is done', async () => {
    const { handler } = handlerFor(slack, { maxLookupsPerMinute: 1 });
    const count = calls.length;
    const before = slack.calls('users.lookupByEmail').length;
    expect(await click(handler, 'U0BOB')).toMatch(/press the button again in a minute/);
    expect(slack.calls('users.lookupByEmail').length).toBe(before + 1);
    expect(calls.length).toBe(count);
  });
});
