import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import type { StampCache } from '../../src/stamps/stamp-cache.js';
import { annotationsAfter, fixture, startTestWebhook, type Review, type TestWebhook } from './harness.js';

// F3: a Secret with a known value goes through every path the webhook has (create, update,
// metadata-only update, malformed JSON, an internal error, debug logging) and the value appears in
// no log line, no annotation and no response, neither as text nor base64.

const CANARY = 'F3-canary-hunter2-7d41';
const B64 = Buffer.from(CANARY).toString('base64');
// Whole and partial forms: a leak of part of a Secret is a leak.
const FORMS = [CANARY, B64, 'hunter2', CANARY.slice(0, 9), B64.slice(0, 12)];
const NOW = Date.parse('2026-03-02T10:05:00Z');

function withCanary(review: Review, mode: 'data' | 'stringData'): Review {
  const object = review.request.object as Record<string, unknown>;
  if (mode === 'stringData') object.stringData = { password: CANARY };
  else object.data = { password: Buffer.from(CANARY).toString('base64') };
  return review;
}

function expectNoCanary(where: string, text: string): void {
  for (const form of FORMS) expect(text.includes(form), `${where} contains the Secret value`).toBe(false);
}

describe('F3 secrets stay secret', () => {
  let hook: TestWebhook;
  let failing: TestWebhook;
  const broken: StampCache = {
    lookup() {
      throw new Error('boom');
    },
    synced: () => true,
    noteAdmitted() {
      throw new Error('cache write failed');
    },
  };
  beforeAll(async () => {
    hook = await startTestWebhook({ now: NOW });
    failing = await startTestWebhook({ now: NOW, cache: broken });
  });
  afterAll(async () => {
    await hook.close();
    await failing.close();
  });

  it('the known value is in the request we send (the test can see it)', async () => {
    const review = await fixture('secret-update');
    expect(JSON.stringify(review)).toContain(Buffer.from(CANARY).toString('base64'));
  });

  it('appears in no response, annotation or log line, on every path', async () => {
    const responses: string[] = [];
    const annotations: string[] = [];
    const send = async (target: TestWebhook, review: Review): Promise<void> => {
      const answer = await target.review('/mutate', review);
      responses.push(JSON.stringify(answer));
      annotations.push(JSON.stringify(annotationsAfter(review, answer)));
      responses.push(JSON.stringify((await target.review('/validate', review)).response));
    };
    // Update with changed data (the fixture's new value is the canary).
    const update = await fixture('secret-update');
    await send(hook, update);
    expect(annotationsAfter(update, await hook.review('/mutate', await fixture('secret-update')))[ANNOTATIONS.contentChangedAt.key]).toBeDefined();
    // Create, with data and with stringData.
    for (const mode of ['data', 'stringData'] as const) {
      const create = withCanary(await fixture('secret-update'), mode);
      create.request.operation = 'CREATE';
      create.request.oldObject = null;
      await send(hook, create);
    }
    // Metadata-only update: the old value is the canary too.
    const same = await fixture('secret-update');
    same.request.oldObject = structuredClone(same.request.object);
    await send(hook, same);
    // A user forging a rollguard key on the Secret gets a warning that must not quote data.
    const forged = await fixture('secret-update');
    (forged.request.object as { metadata: { annotations: Record<string, string> } }).metadata.annotations[ANNOTATIONS.contentChangedAt.key] = CANARY;
    await send(hook, forged);
    // The handler throws while holding the Secret.
    await send(failing, await fixture('secret-update'));
    // Malformed: a body cut off inside the Secret data, and a review missing its uid.
    const text = JSON.stringify(await fixture('secret-update'));
    const cut = text.slice(0, text.indexOf(Buffer.from(CANARY).toString('base64')) + 12);
    // An unquoted value makes JSON.parse quote the text around it in its message.
    const unquoted = text.replace(`"${Buffer.from(CANARY).toString('base64')}"`, CANARY);
    for (const body of [cut, unquoted, text.replace('"uid"', '"uidx"'), text.replace(/"operation":"UPDATE"/, `"operation":"${CANARY}"`)]) {
      const res = await hook.post('/mutate', body);
      expect(res.status).toBe(400);
      responses.push(res.text);
    }
    for (const r of responses) expectNoCanary('a response', r);
    for (const a of annotations) expectNoCanary('an annotation', a);
    const logs = [...hook.logs, ...failing.logs];
    expect(logs.length).toBeGreaterThan(0);
    for (const line of logs) expectNoCanary('a log line', line);
  });
});
