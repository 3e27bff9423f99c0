import { afterEach, describe, expect, it } from 'vitest';
import { DECISION_SCHEMA_V1, type DecisionPayloadV1 } from '../../src/agent/webhook-payload.js';
import { signatureHeader, verifySignature } from '../../src/agent/webhook-signature.js';
import { WebhookSink } from '../../src/agent/webhook-sink.js';
import type { WebhookNotifications } from '../../src/core/notifications-policy.js';
import { min } from '../support/builders.js';
import { blockedByConfig, recordOf, rolledBackWithHandoff } from '../support/decision-fixtures.js';
import { DecisionReceiver } from '../support/decision-receiver.js';
import { FakeSecrets } from '../support/fake-secrets.js';
import { capturedLogger } from '../support/log-capture.js';

// The generic webhook against a local receiver that verifies the signature as a real one would.

const SECRET = 'whsec-test-9f8e7d';
const PAGE = 'https://rollguard.example.com';

let receiver: DecisionReceiver | undefined;
afterEach(async () => {
  await receiver?.stop();
  receiver = undefined;
});

async function setup(opts: { statusFor?: (n: number) => number; receiverSecret?: string; maxAttempts?: number; baseDelayMs?: number; signed?: boolean } = {}) {
  receiver = await new DecisionReceiver(opts.receiverSecret ?? SECRET, opts.statusFor).start();
  const webhook: WebhookNotifications = { url: receiver.url, maxAttempts: opts.maxAttempts ?? 5, ...(opts.signed === false ? {} : { secret: { name: 'hooks', key: 'secret' } }) };
  const { logger, lines } = capturedLogger();
  const sink = new WebhookSink({ settingsFor: () => ({ webhook, pageUrl: PAGE }), secrets: new FakeSecrets({ 'hooks/secret': SECRET }), logger, baseDelayMs: opts.baseDelayMs ?? 20, maxDelayMs: 2000 });
  return { sink, lines, receiver };
}

const payloads = (r: DecisionReceiver): DecisionPayloadV1[] => r.received.map((x) => x.body as DecisionPayloadV1);

describe('R10 the generic decision webhook', () => {
  it('POSTs the decision as rollguard.io/decision/v1, signed with HMAC-SHA256 over timestamp.body', async () => {
    const { sink, receiver: r } = await setup();
    await sink.publish(recordOf(), 'opened');
    expect(r.received).toHaveLength(1);
    const got = r.received[0];
    expect(got?.signature).toEqual({ ok: true });
    expect(got?.headers['content-type']).toBe('application/json');
    expect(got?.headers['x-rollguard-event']).toBe('opened');
    expect(String(got?.headers['x-rollguard-signature'])).toMatch(/^t=\d{10},v1=[0-9a-f]{64}$/);
    const p = payloads(r)[0];
    expect(p).toMatchObject({
      schema: DECISION_SCHEMA_V1,
      event: 'opened',
      decision: {
        id: '0123456789abcdef',
        url: `${PAGE}/decisions/0123456789abcdef`,
        namespace: 'shop',
        deployment: 'checkout',
        service: 'checkout',
        state: 'open',
        stateReason: null,
        verdict: 'suggest',
        confidence: blockedByConfig.confidence,
        command: 'kubectl rollout undo deployment/checkout -n shop --to-revision=6',
        blastRadius: { replicas: 6, updatedReplicas: 6, partial: false, trafficShare: 0.25, sharedConfig: [] },
        owner: { kind: 'none', name: null, namespace: null, reconciles: false },
        changeSet: { kind: 'mixed' },
        onset: '2026-03-02T10:03:00Z',
        firstDecidedAt: '2026-03-02T10:04:00Z',
        lastEvaluatedAt: '2026-03-02T10:06:00Z',
      },
    });
    expect(got?.headers['x-rollguard-delivery']).toBe(p?.delivery);
    expect(p?.decision.conditions.map((c) => `${c.key}:${c.status}`)).toEqual([
      'window:met', 'sameService:met', 'podSpecOnly:unmet', 'migration:met', 'cleanSignal:met', 'ownership:met', 'revision:met', 'paused:met', 'blackout:met', 'mode:met',
    ]);
    expect(p?.decision.conditions[2]?.label).toBe('R3 pod-spec-only change set');
    expect(p?.decision.conditions[2]?.evidence).toContain('ConfigMap app-config');
    expect(Object.keys(p ?? {}).sort()).toEqual(['decision', 'delivery', 'event', 'schema', 'sentAt']);
  });

  it('R9 carries the handoff after rollguard’s own rollback (null otherwise)', async () => {
    const { sink, receiver: r } = await setup();
    const record = rolledBackWithHandoff();
    await sink.publish(record, 'handoff');
    const h = record.handoff?.latest;
    const p = payloads(r)[0];
    expect(p?.event).toBe('handoff');
    expect(p?.decision.handoff).toMatchObject({
      settled: h?.settled,
      recovery: { status: h?.recovery.status },
      assessment: { kind: h?.assessment.kind, evidence: h?.assessment.evidence },
      changeSet: { summary: h?.changeSet.summary, rolledBack: { commit: h?.changeSet.rolledBack.commit ?? null } },
    });
    await sink.publish(recordOf(), 'opened');
    expect(payloads(r)[1]?.decision.handoff).toBeNull();
  });

  it('retries a 500 with backoff, then succeeds: same delivery id, a valid signature each time', async () => {
    const { sink, receiver: r } = await setup({ statusFor: (n) => (n < 2 ? 500 : 204), baseDelayMs: 40 });
    await sink.publish(recordOf(), 'opened');
    expect(r.received).toHaveLength(3);
    expect(r.received.every((x) => x.signature.ok)).toBe(true);
    expect(new Set(payloads(r).map((p) => p.delivery)).size).toBe(1);
    const [a, b, c] = r.received.map((x) => x.at);
    expect((b ?? 0) - (a ?? 0)).toBeGreaterThanOrEqual(15); // retry 1 waits in [20, 40] ms
    expect((c ?? 0) - (b ?? 0)).toBeGreaterThanOrEqual(35); // retry 2 in [40, 80] ms
  });

  it('gives up after maxAttempts and says so once', async () => {
    const { sink, receiver: r, lines } = await setup({ statusFor: () => 503, maxAttempts: 3 });
    await sink.publish(recordOf(), 'opened');
    expect(r.received).toHaveLength(3);
    const warn = lines.filter((l) => l.includes('"level":40'));
    expect(warn).toHaveLength(1);
    expect(warn[0]).toMatch(/giving up/);
    expect(warn[0]).toContain('"attempts":3');
    expect(warn[0]).toContain('"error":"HTTP 503"');
  });

  it('does not retry a refusal (4xx): a receiver that rejects the signature answers 401 once', async () => {
    const { sink, receiver: r, lines } = await setup({ receiverSecret: 'another-secret' });
    await sink.publish(recordOf(), 'opened');
    expect(r.received).toHaveLength(1);
    expect(r.received[0]?.signature).toEqual({ ok: false, reason: 'signature does not match' });
    expect(lines.some((l) => l.includes('refused; not retried') && l.includes('HTTP 401'))).toBe(true);
  });

  it('sends no signature header without a secret', async () => {
    const { sink, receiver: r } = await setup({ signed: false, statusFor: () => 200 });
    await sink.publish(recordOf(), 'opened');
    expect(r.received[0]?.headers['x-rollguard-signature']).toBeUndefined();
  });

  it('lets the latest state win while an older one is being retried, and never blocks the caller', async () => {
    const { sink, receiver: r } = await setup({ statusFor: (n) => (n === 0 ? 500 : 200), baseDelayMs: 400 });
    const started = performance.now();
    const opened = sink.publish(recordOf(), 'opened');
    expect(performance.now() - started).toBeLessThan(50);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await sink.publish(recordOf(blockedByConfig, { state: 'applied', stateReason: 'applied by alice' }), 'applied');
    await opened;
    expect(payloads(r).map((p) => [p.event, p.decision.state])).toEqual([
      ['opened', 'open'],
      ['applied', 'applied'],
    ]);
  });

  it('tells the receiver an older open decision of the same Deployment was superseded', async () => {
    const { sink, receiver: r } = await setup();
    await sink.publish(recordOf(), 'opened');
    await sink.publish(recordOf(blockedByConfig, { id: 'fedcba9876543210', firstDecidedAt: min(20) }), 'opened');
    await sink.idle();
    const seen = payloads(r).map((p) => [p.event, p.decision.id, p.decision.state]);
    expect(seen).toContainEqual(['superseded', '0123456789abcdef', 'superseded']);
    expect(seen).toContainEqual(['opened', 'fedcba9876543210', 'open']);
  });

  it.each([
    [0, 1, 500],
    [1, 1, 1000],
    [0, 3, 2000],
    [1, 3, 4000],
    [0, 10, 30_000],
    [1, 10, 60_000],
  ])('backoff with jitter: random %d, retry %d waits %d ms (base 1s doubling, capped at 60s, in [d/2, d])', (random, retry, expected) => {
    const sink = new WebhookSink({ settingsFor: () => ({ webhook: undefined, pageUrl: undefined }), secrets: new FakeSecrets({}), logger: capturedLogger().logger, random: () => random });
    expect(sink.backoffMs(retry)).toBe(expected);
  });
});

describe('R10 the webhook signature, as receivers check it', () => {
  const body = '{"schema":"rollguard.io/decision/v1"}';
  const now = 1_772_445_840;
  it.each([
    ['valid', signatureHeader(SECRET, now, body), body, now, { ok: true }],
    ['a retry signed a minute later', signatureHeader(SECRET, now + 60, body), body, now + 61, { ok: true }],
    ['stale', signatureHeader(SECRET, now - 600, body), body, now, { ok: false, reason: 'timestamp outside the tolerance' }],
    ['forged body', signatureHeader(SECRET, now, body), body.replace('v1', 'v2'), now, { ok: false, reason: 'signature does not match' }],
    ['wrong secret', signatureHeader('guess', now, body), body, now, { ok: false, reason: 'signature does not match' }],
    ['timestamp moved', signatureHeader(SECRET, now, body).replace(`t=${now}`, `t=${now + 1}`), body, now, { ok: false, reason: 'signature does not match' }],
    ['malformed', 'v1=abc', body, now, { ok: false, reason: 'malformed signature header' }],
    ['missing', undefined, body, now, { ok: false, reason: 'no X-Rollguard-Signature header' }],
  ] as const)('%s', (_name, header, b, at, expected) => {
    expect(verifySignature(SECRET, header, b, at)).toEqual(expected);
  });
});
