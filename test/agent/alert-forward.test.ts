import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import { defaultAdvertiseUrl, advertiseUrlProblem } from '../../src/agent/advertise-url.js';
import { FORWARDED_BY_HEADER, routeAlert } from '../../src/agent/alert-forward.js';
import { startAgentHttp } from '../../src/agent/http.js';
import type { LeaseHolder } from '../../src/agent/lease.js';
import { offlineAgent } from '../support/agent-helpers.js';
import { capturedLogger } from '../support/log-capture.js';
import { freePort } from '../support/process.js';

// R10: an Alertmanager notification is accepted by every replica. The routing decision, then two
// agents on loopback whose roles the test sets (in a cluster the Lease sets them): a standby hands a
// valid payload to the leader, never forwards a forwarded one (no loop), refuses a malformed one
// itself, and answers 2xx even when the leader cannot be reached.

describe('R10 where an Alertmanager notification goes', () => {
  const leader: LeaseHolder = { identity: 'agent-b', url: 'http://127.0.0.1:8080' };
  it.each([
    ['the leader evaluates', { leading: true, forwardedBy: undefined, holder: undefined }, { kind: 'evaluate' }],
    ['the leader evaluates a forwarded one too', { leading: true, forwardedBy: 'agent-a', holder: undefined }, { kind: 'evaluate' }],
    ['a standby forwards to the holder', { leading: false, forwardedBy: undefined, holder: leader }, { kind: 'forward', to: { identity: 'agent-b', url: 'http://127.0.0.1:8080' } }],
    ['a standby never forwards a forwarded one (no loop, even when it believes another leads)', { leading: false, forwardedBy: 'agent-a', holder: leader }, { kind: 'not-leader', forwardedBy: 'agent-a' }],
    ['no holder: accepted, not forwarded', { leading: false, forwardedBy: undefined, holder: undefined }, { kind: 'no-leader', why: 'no replica holds the Lease now' }],
    ['a holder without a URL: accepted, not forwarded', { leading: false, forwardedBy: undefined, holder: { identity: 'old', url: undefined } }, { kind: 'no-leader', why: 'the leader old advertises no URL in the Lease (an agent without --advertise-url support)' }],
  ] as const)('%s', (_label, input, route) => {
    expect(routeAlert(input)).toEqual(route);
  });

  it('R10 the advertised URL: the Pod IP when the chart gives it, else loopback; a bad flag value is refused', () => {
    expect(defaultAdvertiseUrl('10.1.2.3', 8080)).toBe('http://10.1.2.3:8080');
    expect(defaultAdvertiseUrl('fd00::7', 8080)).toBe('http://[fd00::7]:8080');
    expect(defaultAdvertiseUrl(undefined, 9000)).toBe('http://127.0.0.1:9000');
    expect(defaultAdvertiseUrl('', 9000)).toBe('http://127.0.0.1:9000');
    expect(advertiseUrlProblem('http://10.1.2.3:8080')).toBeUndefined();
    expect(advertiseUrlProblem('10.1.2.3:8080')).toMatch(/expected an http or https URL|expected a base URL/);
    expect(advertiseUrlProblem('http://10.1.2.3:8080/?x=1')).toMatch(/without query/);
  });
});

type Http = { port: number; close(): Promise<void> };

describe('R10 F5 POST /alertmanager on two replicas', () => {
  const a = capturedLogger();
  const b = capturedLogger();
  let standby: Agent;
  let leading: Agent;
  let standbyHttp: Http;
  let leaderHttp: Http;
  const seenByLeader: (string | undefined)[] = [];

  beforeAll(async () => {
    standby = offlineAgent(a.logger, 'agent-a');
    leading = offlineAgent(b.logger, 'agent-b');
    standbyHttp = await startAgentHttp(standby, a.logger, 0, '127.0.0.1');
    leaderHttp = await startAgentHttp(leading, b.logger, 0, '127.0.0.1');
    standby.lease.isLeader = () => false;
    leading.lease.isLeader = () => true;
    standby.lease.holder = () => ({ identity: 'agent-b', url: `http://127.0.0.1:${String(leaderHttp.port)}` });
    const handle = leading.handleAlerts.bind(leading);
    leading.handleAlerts = (alerts) => {
      seenByLeader.push(alerts[0]?.name);
      return handle(alerts);
    };
  });

  afterAll(async () => {
    await standbyHttp.close();
    await leaderHttp.close();
  });

  const alert = (alertname: string) => ({ status: 'firing', labels: { alertname, namespace: 'shop', service: 'nobody' }, annotations: {}, startsAt: '2025-01-01T00:00:00Z', fingerprint: 'f00' });
  const payload = (alerts: unknown[]) => JSON.stringify({ version: '4', status: 'firing', receiver: 'rollguard', groupLabels: {}, commonLabels: {}, alerts });
  const post = async (port: number, body: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`http://127.0.0.1:${String(port)}/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const counter = async (agent: Agent, result: string) => (await agent.metrics.alerts.get()).values.find((v) => v.labels.result === result)?.value ?? 0;

  it('R10 a standby hands a valid notification to the leader, which evaluates it, and answers 200 saying where it went', async () => {
    const forwarded = await counter(standby, 'forwarded');
    const res = await post(standbyHttp.port, payload([alert('ToLeader'), alert('Second')]));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      forwardedTo: 'agent-b',
      url: `http://127.0.0.1:${String(leaderHttp.port)}`,
      accepted: 0,
      results: [
        { alert: 'ToLeader', matched: [], result: 'no Deployment matches' },
        { alert: 'Second', matched: [], result: 'no Deployment matches' },
      ],
    });
    expect(seenByLeader.at(-1)).toBe('ToLeader');
    expect(await counter(standby, 'forwarded')).toBe(forwarded + 2);
    expect(await counter(leading, 'no-match')).toBe(2);
  });

  it('F5 a malformed payload: the same precise 400 on the standby and the leader, and nothing is forwarded', async () => {
    const before = seenByLeader.length;
    const bad = payload([{ status: 'firing' }]);
    for (const port of [standbyHttp.port, leaderHttp.port]) {
      const res = await post(port, bad);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(/^not an Alertmanager webhook payload \(version 4\): alerts\.0\.labels: /);
    }
    expect(seenByLeader.length).toBe(before);
  });

  it('R10 a forwarded notification reaching a replica that does not lead is not forwarded again: 421 to the sender', async () => {
    const before = seenByLeader.length;
    const res = await post(standbyHttp.port, payload([alert('Bounced')]), { [FORWARDED_BY_HEADER]: 'agent-c' });
    expect(res.status).toBe(421);
    expect(res.body.error).toMatch(/does not forward again an alert agent-c forwarded/);
    expect(seenByLeader.length).toBe(before);
  });

  it('R10 two replicas that each believe the other leads: one hop, then 202 to Alertmanager, no loop', async () => {
    const other = offlineAgent(pino({ level: 'silent' }), 'agent-c');
    const otherHttp = await startAgentHttp(other, pino({ level: 'silent' }), 0, '127.0.0.1');
    other.lease.isLeader = () => false;
    other.lease.holder = () => ({ identity: 'agent-a', url: `http://127.0.0.1:${String(standbyHttp.port)}` });
    const saved = standby.lease.holder.bind(standby.lease);
    standby.lease.holder = () => ({ identity: 'agent-c', url: `http://127.0.0.1:${String(otherHttp.port)}` });
    try {
      const res = await post(otherHttp.port, payload([alert('Loop')]));
      expect(res.status).toBe(202);
      expect(res.body.message).toMatch(/the leader agent-a at http:\/\/127\.0\.0\.1:\d+ answered HTTP 421: this replica is not the leader/);
      expect(await counter(other, 'forward-failed')).toBe(1);
      expect(await counter(standby, 'forwarded')).toBe(2);
    } finally {
      standby.lease.holder = saved;
      await otherHttp.close();
    }
  });

  it('R10 the leader unreachable: 202 saying so and that the interval covers it, counted each time, logged once per streak', async () => {
    const saved = standby.lease.holder.bind(standby.lease);
    const closed = await freePort();
    standby.lease.holder = () => ({ identity: 'agent-b', url: `http://127.0.0.1:${String(closed)}` });
    const failed = await counter(standby, 'forward-failed');
    const warnings = () => a.lines.filter((l) => l.includes('could not hand an alert to the leader')).length;
    const before = warnings();
    for (let i = 0; i < 2; i++) {
      const res = await post(standbyHttp.port, payload([alert('Unreachable')]));
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ forwarded: false, message: expect.stringMatching(/^accepted by a standby, not evaluated at once: forwarding to the leader agent-b at http:\/\/127\.0\.0\.1:\d+ failed: unreachable \(ECONNREFUSED\); the leader evaluates every deploy in its span each interval \(600s\) anyway$/) as unknown });
    }
    expect(await counter(standby, 'forward-failed')).toBe(failed + 2);
    expect(warnings()).toBe(before + 1);
    standby.lease.holder = saved;
    expect((await post(standbyHttp.port, payload([alert('Back')]))).status).toBe(200);
    expect(a.lines.filter((l) => l.includes('forwarding alerts to the leader works again'))).toHaveLength(1);
  });
});
