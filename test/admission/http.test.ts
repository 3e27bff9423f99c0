import { readFile } from 'node:fs/promises';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StampCache } from '../../src/stamps/stamp-cache.js';
import { ensureCertificates } from '../../src/certs/store.js';
import { describeCert } from '../../src/certs/x509.js';
import { fixture, startTestWebhook, type TestWebhook } from './harness.js';

const NOW = Date.parse('2026-03-02T10:05:00Z');

describe('F5 malformed requests get a precise 4xx', () => {
  let hook: TestWebhook;
  beforeAll(async () => {
    hook = await startTestWebhook({ now: NOW });
  });
  afterAll(async () => {
    await hook.close();
  });

  it.each([
    ['a wrong content type', 'text/plain', '{}', 415, 'Content-Type must be application/json'],
    ['a wrong content type and no body', 'application/x-www-form-urlencoded', '', 415, 'Content-Type must be application/json'],
    ['a JSON look-alike type', 'application/jsonx', '{}', 415, 'Content-Type must be application/json'],
    ['a body that is not JSON', 'application/json', '{"apiVersion": ', 400, 'not valid JSON'],
    ['an empty body', 'application/json', '', 400, 'empty or not valid JSON'],
    ['JSON that is not an AdmissionReview', 'application/json', '{"kind":"Pod"}', 400, 'not an admission.k8s.io/v1 AdmissionReview'],
    ['a review without a request', 'application/json', '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}', 400, 'AdmissionReview'],
  ])('%s', async (_label, contentType, body, code, message) => {
    const res = await hook.post('/mutate', body, { 'content-type': contentType });
    expect(res.status).toBe(code);
    expect(res.json).toMatchObject({ kind: 'Status', status: 'Failure', code });
    expect((res.json as { message: string }).message).toContain(message);
  });

  it('names the missing fields of an incomplete review', async () => {
    const review = await fixture('deployment-update-image');
    const request = review.request as Record<string, unknown>;
    delete request.uid;
    request.operation = 'PATCH';
    const res = await hook.post('/mutate', review);
    expect(res.status).toBe(400);
    const causes = (res.json as { details: { causes: { message: string }[] } }).details.causes.map((c) => c.message).join('\n');
    expect(causes).toContain('request.uid');
    expect(causes).toContain('request.operation');
  });

  it('accepts a review of the largest object the apiserver stores, rejects a bigger body with 413', async () => {
    const review = await fixture('deployment-update-image');
    // ~3 MiB object, as in a review of an object near the apiserver's limit.
    const object = review.request.object as { metadata: { annotations: Record<string, string> } };
    object.metadata.annotations['example.com/blob'] = 'x'.repeat(3 * 1024 * 1024 - 20_000);
    expect((await hook.post('/mutate', review)).status).toBe(200);
    const huge = Buffer.alloc(7 * 1024 * 1024 + 1, 0x20);
    const res = await hook.post('/mutate', huge);
    expect(res.status).toBe(413);
    expect((res.json as { message: string }).message).toContain('larger than');
  });

  it('answers 405 for GET /mutate and 404 for an unknown path', async () => {
    expect((await hook.get('/mutate')).status).toBe(405);
    expect((await hook.get('/nope')).status).toBe(404);
  });
});

describe('F2 an exception inside the handler fails open', () => {
  let hook: TestWebhook;
  const broken: StampCache = {
    lookup() {
      throw new Error('informer exploded');
    },
    synced: () => true,
    noteAdmitted: () => undefined,
  };
  beforeAll(async () => {
    hook = await startTestWebhook({ now: NOW, cache: broken });
  });
  afterAll(async () => {
    await hook.close();
  });

  it('answers allowed without a patch, with a warning, a metric and a log line', async () => {
    const review = await fixture('deployment-update-image');
    const answer = await hook.review('/mutate', review);
    expect(answer.response.allowed).toBe(true);
    expect(answer.response.patch).toBeUndefined();
    expect(answer.response.warnings?.[0]).toContain('could not stamp');
    const metrics = await hook.get('/metrics');
    expect(metrics.text).toMatch(/rollguard_admission_requests_total\{webhook="mutate",kind="Deployment",operation="UPDATE",outcome="failed-open"\} 1/);
    const line = hook.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.outcome === 'failed-open');
    expect(line).toMatchObject({ level: 50, uid: review.request.uid, error: 'informer exploded' });
  });
});

describe('F2 health, readiness and metrics', () => {
  let hook: TestWebhook;
  beforeAll(async () => {
    hook = await startTestWebhook({ now: NOW, healthPort: true });
  });
  afterAll(async () => {
    await hook.close();
  });

  it('serves /healthz, /readyz and /metrics on the HTTPS port and the health port', async () => {
    await hook.review('/mutate', await fixture('configmap-create'));
    for (const port of [undefined, hook.server.healthPort]) {
      expect((await hook.get('/healthz', port)).status).toBe(200);
      expect((await hook.get('/readyz', port)).status).toBe(200);
      const metrics = await hook.get('/metrics', port);
      expect(metrics.text).toContain('rollguard_admission_requests_total{webhook="mutate",kind="ConfigMap",operation="CREATE",outcome="patched"} 1');
      expect(metrics.text).toContain('rollguard_admission_duration_seconds_bucket');
    }
  });
});

function servedSerial(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.end();
      resolve(serial.toLowerCase());
    });
    socket.on('error', reject);
  });
}

describe('certificates reload without dropping connections', () => {
  let hook: TestWebhook;
  beforeAll(async () => {
    hook = await startTestWebhook({ now: NOW, reloadIntervalMs: 20 });
  });
  afterAll(async () => {
    await hook.close();
  });

  it('serves the renewed certificate to new connections while the kept-alive one keeps working', async () => {
    const before = await servedSerial(hook.server.port, hook.ca);
    await hook.review('/mutate', await fixture('configmap-create')); // opens a keep-alive connection
    // Renew the leaf: a different set of names forces a new certificate from the same CA.
    const renewed = await ensureCertificates({ outDir: hook.dir, names: ['localhost', '127.0.0.1', 'rollguard-webhook.rollguard.svc'], days: 30, now: Date.now() });
    expect(renewed.caCreated).toBe(false);
    const expected = describeCert(await readFile(renewed.paths.cert, 'utf8')).serial.toLowerCase();
    expect(expected).not.toBe(before.replace(/^0+/, ''));
    let served = before;
    for (let i = 0; i < 200 && served.replace(/^0+/, '') !== expected.replace(/^0+/, ''); i++) {
      await new Promise((r) => setTimeout(r, 25));
      served = await servedSerial(hook.server.port, hook.ca);
    }
    expect(served.replace(/^0+/, '')).toBe(expected.replace(/^0+/, ''));
    // The connection opened before the reload still answers.
    await hook.review('/mutate', await fixture('job-create'));
    expect((await hook.get('/metrics')).text).toMatch(/rollguard_webhook_certificate_reloads_total\{result="loaded"\} [1-9]/);
  });
});
