import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentDependencyProbes, policySourceProbe } from '../../src/agent/dependency-probes.js';
import type { PolicySource } from '../../src/agent/policy-source.js';
import type { NotificationPolicy } from '../../src/core/notifications-policy.js';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import { DependencyHealth, type Dependency } from '../../src/health/dependency-health.js';
import { NOT_CONFIGURED, Prober } from '../../src/health/prober.js';
import { connectProbe } from '../../src/health/probes.js';
import type { KubeRest } from '../../src/kube/rest.js';
import { FakeSecrets } from '../support/fake-secrets.js';
import { FakeSlack } from '../support/fake-slack.js';
import { freePort } from '../support/process.js';

// F1 failures are loud: the agent probes Slack (auth.test), the decision webhook (a connection,
// never a request) and its policy source at start and every interval, with the same reporting as
// Prometheus and the apiserver; what is not configured is not probed and reads neither up nor down.

const slack = new FakeSlack({ token: 'xoxb-good', channels: ['#deploys'] });
let receiver: Server;
let receiverUrl = '';
let receiverRequests = 0;
let closedPort = 0;
const rest = { get: () => Promise.reject(new Error('no apiserver in this test')) } as unknown as KubeRest;

beforeAll(async () => {
  await slack.start();
  receiver = createServer((_req, res) => {
    receiverRequests++;
    res.end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${String((receiver.address() as AddressInfo).port)}/hooks/rollguard`;
  closedPort = await freePort();
});

afterAll(async () => {
  await slack.stop();
  receiver.close();
});

function source(notifications: Partial<NotificationPolicy>): PolicySource {
  const policy = { ...DEFAULT_POLICY, notifications: { ...DEFAULT_POLICY.notifications, ...notifications } };
  return { policyFor: () => policy, describe: () => 'test', stop: () => undefined };
}

function probesFor(notifications: Partial<NotificationPolicy>, secrets: Record<string, string> = {}) {
  return agentDependencyProbes({ policies: source(notifications), origin: { type: 'defaults' }, namespace: 'rollguard', secrets: new FakeSecrets(secrets), rest, slackApi: { apiBase: slack.apiBase } });
}

const token = { name: 'slack', key: 'token' };

describe('F1 the agent probes Slack, the decision webhook and the policy source', () => {
  it('F1 Slack: auth.test with the bot token passes; a wrong token fails naming invalid_auth; a missing Secret names it', async () => {
    await expect(probesFor({ slack: { botToken: token, channel: '#deploys' } }, { 'slack/token': 'xoxb-good' }).slack?.()).resolves.not.toBe(NOT_CONFIGURED);
    expect(slack.calls('auth.test').at(-1)?.authorization).toBe('Bearer xoxb-good');
    await expect(probesFor({ slack: { botToken: token, channel: '#deploys' } }, { 'slack/token': 'xoxb-revoked' }).slack?.()).rejects.toThrow(/auth\.test failed: invalid_auth/);
    await expect(probesFor({ slack: { botToken: token, channel: '#deploys' } }).slack?.()).rejects.toThrow(/Secret does not exist/);
  });

  it('F1 Slack and the decision webhook not configured: not probed, neither up nor down', async () => {
    const probes = probesFor({});
    await expect(probes.slack?.()).resolves.toBe(NOT_CONFIGURED);
    await expect(probes['decision-webhook']?.()).resolves.toBe(NOT_CONFIGURED);
    await expect(probes['policy-source']?.()).resolves.toBe(NOT_CONFIGURED);
  });

  it('F1 the decision webhook: a connection to its host, no request; a closed port fails naming host:port and not the path', async () => {
    const before = receiverRequests;
    await expect(probesFor({ webhook: { url: receiverUrl, maxAttempts: 3 } })['decision-webhook']?.()).resolves.not.toBe(NOT_CONFIGURED);
    expect(receiverRequests).toBe(before);
    const closed = probesFor({ webhook: { url: `http://127.0.0.1:${String(closedPort)}/hooks/secret-path`, maxAttempts: 3 } })['decision-webhook']?.();
    await expect(closed).rejects.toThrow(`cannot connect to 127.0.0.1:${String(closedPort)}: connect ECONNREFUSED`);
    await expect(closed).rejects.not.toThrow(/secret-path/);
  });

  it('F1 an https webhook must complete TLS: a plain-HTTP listener fails the handshake', async () => {
    await expect(connectProbe(receiverUrl.replace('http:', 'https:'))).rejects.toThrow(/cannot open a TLS connection to 127\.0\.0\.1:\d+/);
  });

  it('F1 the policy file: readable and valid passes; invalid or gone fails saying the last valid policy stays', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollguard-probe-'));
    const path = join(dir, 'policy.yaml');
    writeFileSync(path, 'default: {mode: suggest}\n');
    await expect(policySourceProbe({ type: 'file', path }, rest)()).resolves.not.toBe(NOT_CONFIGURED);
    writeFileSync(path, 'default: {mode: sometimes}\n');
    await expect(policySourceProbe({ type: 'file', path }, rest)()).rejects.toThrow(/policy file .* cannot be used \(the last valid policy stays in effect\)/);
    await expect(policySourceProbe({ type: 'file', path: join(dir, 'gone.yaml') }, rest)()).rejects.toThrow(/cannot be used/);
  });

  it('F1 through the prober: a failing Slack is down with its error, the gauge 0 and one failure counted; the unconfigured webhook has no state', async () => {
    const gauge = new Map<Dependency, number>();
    const failures = new Map<Dependency, number>();
    const health = new DependencyHealth({ logger: pino({ level: 'silent' }), clock: Date.now, metrics: { up: (d, v) => gauge.set(d, v), failed: (d) => failures.set(d, (failures.get(d) ?? 0) + 1) } });
    const prober = new Prober({ health, probes: probesFor({ slack: { botToken: token, channel: '#deploys' } }, { 'slack/token': 'xoxb-revoked' }) });
    await prober.runOnce();
    expect(health.describe('slack')).toMatch(/^Slack failing since .*: auth\.test failed: invalid_auth/);
    expect(gauge.get('slack')).toBe(0);
    expect(failures.get('slack')).toBe(1);
    expect(health.get('decision-webhook')).toBeUndefined();
    expect(gauge.has('decision-webhook')).toBe(false);
  });
});
