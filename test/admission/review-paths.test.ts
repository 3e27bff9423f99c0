import { request } from 'node:https';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, startTestWebhook, type TestWebhook } from './harness.js';

// F5: a review is read on node:http directly when it comes as the apiserver sends it (POST, JSON,
// Content-Length, no encoding) and by the express app otherwise. Whichever way it arrives, the
// answer is the same, byte for byte; a body cut short is refused and counted the same way.

const NOW = Date.parse('2026-03-02T10:05:00Z');

let hook: TestWebhook;
beforeAll(async () => {
  hook = await startTestWebhook({ now: NOW });
});
afterAll(async () => {
  await hook.close();
});

/** Sends `parts` as the body (several parts without a Content-Length: chunked). */
function send(path: string, parts: readonly Buffer[], headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', servername: 'localhost', port: hook.server.port, path, method: 'POST', ca: hook.ca, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    for (const part of parts.slice(0, -1)) req.write(part);
    req.end(parts.at(-1));
  });
}

const JSON_TYPE = { 'content-type': 'application/json' };

describe('F5 a review is answered the same whichever way it arrives', () => {
  it.each(['deployment-update-image', 'configmap-create', 'job-create', 'deployment-delete'])('%s: plain, with ?timeout=, chunked, gzip, deflate, br, with a charset, at /mutate/', async (name) => {
    const body = Buffer.from(JSON.stringify(await fixture(name)));
    const plain = await send('/mutate', [body], { ...JSON_TYPE, 'content-length': String(body.length) });
    expect(plain.status).toBe(200);
    const half = Math.floor(body.length / 2);
    const ways: [string, string, Buffer[], Record<string, string>][] = [
      ['timeout query', '/mutate?timeout=10s', [body], { ...JSON_TYPE, 'content-length': String(body.length) }],
      ['chunked', '/mutate', [body.subarray(0, half), body.subarray(half)], JSON_TYPE],
      ['gzip', '/mutate', [gzipSync(body)], { ...JSON_TYPE, 'content-encoding': 'gzip' }],
      ['deflate', '/mutate', [deflateSync(body)], { ...JSON_TYPE, 'content-encoding': 'deflate' }],
      ['br', '/mutate', [brotliCompressSync(body)], { ...JSON_TYPE, 'content-encoding': 'br' }],
      ['charset', '/mutate', [body], { 'content-type': 'application/json; charset=utf-8', 'content-length': String(body.length) }],
      ['trailing slash', '/mutate/', [body], { ...JSON_TYPE, 'content-length': String(body.length) }],
    ];
    for (const [way, path, parts, headers] of ways) {
      const answer = await send(path, parts, headers);
      expect({ way, status: answer.status, text: answer.text }).toEqual({ way, status: 200, text: plain.text });
    }
  });

  it('refuses an unsupported encoding, a wrong type and an oversized length as before, on either path', async () => {
    const body = Buffer.from(JSON.stringify(await fixture('configmap-create')));
    const encoded = await send('/mutate', [body], { ...JSON_TYPE, 'content-encoding': 'compress' });
    expect(encoded.status).toBe(415);
    const typed = await send('/mutate', [body], { 'content-type': 'text/plain', 'content-length': String(body.length) });
    expect(typed.status).toBe(415);
    expect(typed.text).toContain('Content-Type must be application/json');
  });

  it('counts a body cut short as a rejected request and logs it', async () => {
    const before = (await hook.get('/metrics')).text;
    const rejected = (text: string): number => Number(/rollguard_admission_requests_total\{webhook="http",kind="unknown",operation="unknown",outcome="rejected"\} (\d+)/.exec(text)?.[1] ?? 0);
    await new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', servername: 'localhost', port: hook.server.port, path: '/mutate', method: 'POST', ca: hook.ca, headers: { ...JSON_TYPE, 'content-length': '100000' } });
      req.on('error', () => {
        resolve();
      });
      req.write('{"apiVersion":"admission.k8s.io/v1",', () => {
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 50);
      });
    });
    for (let i = 0; i < 100 && rejected((await hook.get('/metrics')).text) === rejected(before); i++) await new Promise((r) => setTimeout(r, 20));
    expect(rejected((await hook.get('/metrics')).text)).toBe(rejected(before) + 1);
    expect(hook.logs.some((l) => l.includes('the request body was not received completely'))).toBe(true);
  });
});
