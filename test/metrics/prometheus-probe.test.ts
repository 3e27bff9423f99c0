import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import { PrometheusSource } from '../../src/metrics/prometheus.js';
import { MetricSourceError } from '../../src/metrics/source.js';
import { freePort } from '../support/process.js';
import { startPrometheus, type RunningPrometheus } from '../support/prometheus.js';

// The Prometheus dependency probe: the install mistakes it must name (a closed port, a URL that is
// not Prometheus) fail it with what to fix, and a real Prometheus passes it.

let prometheus: RunningPrometheus;
let notPrometheus: Server;
let notPrometheusUrl = '';

beforeAll(async () => {
  prometheus = await startPrometheus('# EOF\n');
  notPrometheus = createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n'));
  await new Promise<void>((r) => notPrometheus.listen(0, '127.0.0.1', r));
  notPrometheusUrl = `http://127.0.0.1:${(notPrometheus.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await prometheus.stop();
  await new Promise((r) => notPrometheus.close(r));
});

const probe = (url: string) => new PrometheusSource({ url, metrics: DEFAULT_POLICY.metrics, timeoutMs: 5000 }).probe();

describe('F1 the Prometheus probe', () => {
  it('passes against a real Prometheus', async () => {
    await expect(probe(prometheus.url)).resolves.toBeUndefined();
  });

  it('fails on a closed port, saying unreachable', async () => {
    const err = await probe(`http://127.0.0.1:${await freePort()}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MetricSourceError);
    expect((err as MetricSourceError).kind).toBe('unreachable');
    expect((err as Error).message).toMatch(/^Prometheus unreachable at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });

  it('fails on a server answering 404, asking whether the URL is Prometheus', async () => {
    const err = await probe(notPrometheusUrl).catch((e: unknown) => e);
    expect((err as MetricSourceError).kind).toBe('bad-response');
    expect((err as Error).message).toMatch(/is the URL the Prometheus server/);
  });

  it('fails on a wrong path prefix of a real Prometheus (its 404)', async () => {
    const err = await probe(`${prometheus.url}/prometheus`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MetricSourceError);
    expect((err as Error).message).toMatch(/is the URL the Prometheus server/);
  });
});
