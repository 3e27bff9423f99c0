import { spawn, execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MetricsPreset } from '../../src/core/policy.js';
import type { CounterSeries, RawServiceSeries } from '../../src/core/regression-series.js';
import { PRESETS } from '../../src/metrics/conventions.js';
import { formatOpenMetrics } from '../../src/metrics/openmetrics-format.js';
import type { Family, Sample } from '../../src/metrics/openmetrics-format.js';
import { freePort } from './process.js';

// A real Prometheus for integration tests: generated series are written as OpenMetrics, backfilled
// into a TSDB with `promtool tsdb create-blocks-from openmetrics`, and served by `prometheus` on a
// free loopback port with a retention long enough to keep the (old) backfilled blocks.

const run = promisify(execFile);

/** The gRPC code a server answers where an HTTP server answers the generator's status code. */
const GRPC_CODES: Readonly<Record<string, string>> = { '200': 'OK', '404': 'NotFound', '500': 'Unavailable', '504': 'DeadlineExceeded' };

/**
 * Generated series (labels namespace/service/code, `le` in seconds) as OpenMetrics under a preset's
 * naming: label names, extra matchers, status values (gRPC codes for grpc) and the `le` unit of that
 * preset. A request counter that is the latency histogram's `_count` (opentelemetry) is written in
 * that histogram's family.
 */
export function toOpenMetrics(all: readonly RawServiceSeries[], preset: MetricsPreset = 'default'): string {
  const c = PRESETS[preset];
  const status = (code: string): string => (preset === 'grpc' ? (GRPC_CODES[code] ?? code) : code);
  const rename = (labels: Readonly<Record<string, string>>): Record<string, string> => {
    const out: Record<string, string> = { ...c.extraMatchers };
    for (const [k, v] of Object.entries(labels)) {
      const name = k === 'namespace' ? c.namespaceLabel : k === 'service' ? c.serviceLabel : k === 'code' ? c.statusLabel : k;
      out[name] = k === 'le' && v !== '+Inf' ? String(Number(v) / c.leUnitSeconds) : k === 'code' ? status(v) : v;
    }
    return out;
  };
  const samples = (name: string, series: readonly CounterSeries[]): Sample[] =>
    series.flatMap((s) => s.samples.map(([timestamp, value]) => ({ name, labels: rename(s.labels), value, timestamp })));
  const requests = samples(c.requests, all.flatMap((s) => s.requests));
  const latency = samples(c.latencyBuckets, all.flatMap((s) => s.latency));
  const histogram = c.latencyBuckets.replace(/_bucket$/, '');
  const families: Family[] =
    c.requests === `${histogram}_count`
      ? [{ name: histogram, type: 'histogram', help: 'Request duration.', samples: [...latency, ...requests] }]
      : [
          { name: c.requests.replace(/_total$/, ''), type: c.requests.endsWith('_total') ? 'counter' : 'unknown', help: 'Requests by status code.', samples: requests },
          { name: histogram, type: 'histogram', help: 'Request latency.', samples: latency },
        ];
  return formatOpenMetrics(families);
}


async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with code ${child.exitCode}:\n${log()}`);
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`prometheus did not become ready at ${url} within 30 s:\n${log()}`);
}

export interface RunningPrometheus {
  url: string;
  stop(): Promise<void>;
}

/** Backfills `openMetrics` into a fresh TSDB and starts Prometheus over it on 127.0.0.1. */
export async function startPrometheus(openMetrics: string): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'rollguard-prom-'));
  const input = join(dir, 'series.om');
  const data = join(dir, 'data');
  await writeFile(input, openMetrics);
  try {
    await run('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', input, data]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`promtool could not backfill the test series (is Debian's prometheus package installed? .ci/run installs it): ${(err as Error).message}`, { cause: err });
  }
  const config = join(dir, 'prometheus.yml');
  await writeFile(config, 'global:\n  scrape_interval: 1h\nscrape_configs: []\n');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${data}`,
      '--storage.tsdb.retention.time=100y',
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(url, child, () => stderr);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}
