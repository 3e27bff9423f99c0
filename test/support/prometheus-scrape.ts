import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { MetricsPreset } from '../../src/core/policy.js';
import { PRESETS, promString } from '../../src/metrics/conventions.js';
import { assertLoopback, httpOk, startProcess, withFreePorts } from './process.js';

const run = promisify(execFile);

// Prometheus in scrape mode (beside prometheus.ts, which serves a backfilled TSDB): scrapes
// loopback targets every second, evaluates rule files every second and sends alerts to
// Alertmanagers, on a free loopback port over a temp TSDB.

/** The scrape job's name: every scraped series carries job="test" and its target as instance. */
export const SCRAPE_JOB = 'test';

export interface ScrapingPrometheusOptions {
  /** host:port of each target, loopback only. */
  targets: readonly string[];
  metricsPath?: string;
  intervalSeconds?: number;
  /** Contents of rule files (YAML), e.g. from errorShareAlertRule(). */
  rules?: readonly string[];
  /** host:port of each Alertmanager, loopback only. */
  alertmanagers?: readonly string[];
  timeoutMs?: number;
  /** OpenMetrics with timestamps (e.g. from trafficHistory()), backfilled before the first scrape. */
  history?: string;
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface ScrapingPrometheus {
  /** http://127.0.0.1:PORT */
  url: string;
  /** An instant query; throws unless Prometheus answers status "success" with a vector. */
  query(promql: string): Promise<PromSample[]>;
  logTail: () => string;
  stop: () => Promise<void>;
}

async function backfill(openMetrics: string, dir: string): Promise<void> {
  const input = join(dir, 'history.om');
  await writeFile(input, openMetrics);
  await run('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', input, join(dir, 'data')]);
}

export async function startScrapingPrometheus(opts: ScrapingPrometheusOptions): Promise<ScrapingPrometheus> {
  for (const t of [...opts.targets, ...(opts.alertmanagers ?? [])]) assertLoopback(t);
  const interval = `${String(opts.intervalSeconds ?? 1)}s`;
  const dir = await mkdtemp(join(tmpdir(), 'rollguard-prom-scrape-'));
  try {
    const ruleFiles: string[] = [];
    for (const [i, rule] of (opts.rules ?? []).entries()) {
      const file = join(dir, `rules-${String(i)}.yml`);
      await writeFile(file, rule);
      ruleFiles.push(file);
    }
    const config = {
      global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
      rule_files: ruleFiles,
      scrape_configs: [{ job_name: SCRAPE_JOB, metrics_path: opts.metricsPath ?? '/metrics', static_configs: [{ targets: [...opts.targets] }] }],
      ...(opts.alertmanagers !== undefined && opts.alertmanagers.length > 0
        ? { alerting: { alertmanagers: [{ api_version: 'v2', static_configs: [{ targets: [...opts.alertmanagers] }] }] } }
        : {}),
    };
    if (opts.history !== undefined) await backfill(opts.history, dir);
    const configFile = join(dir, 'prometheus.yml');
    await writeFile(configFile, stringify(config));
    const { p, url } = await withFreePorts(1, ([port = 0]) =>
      startProcess({
        name: 'prometheus',
        command: 'prometheus',
        args: [
          `--config.file=${configFile}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          '--storage.tsdb.retention.time=100y',
          `--web.listen-address=127.0.0.1:${port}`,
          // Without it the alerts' generatorURL would name this machine's hostname.
          `--web.external-url=http://127.0.0.1:${port}/`,
          // Alerts stay fresh in Alertmanager at a test's pace (the default is 1 min).
          '--rules.alert.resend-delay=1s',
        ],
        ready: () => httpOk(`http://127.0.0.1:${port}/-/ready`),
        timeoutMs: opts.timeoutMs ?? 30_000,
      }).then((p) => ({ p, url: `http://127.0.0.1:${port}` })),
    );
    return {
      url,
      logTail: p.logTail,
      async query(promql) {
        const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: promql }).toString()}`, { signal: AbortSignal.timeout(5000) });
        const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: PromSample[] } };
        if (body.status !== 'success' || body.data?.resultType !== 'vector') throw new Error(`query ${promql} failed: ${body.error ?? JSON.stringify(body)}`);
        return body.data.result;
      },
      async stop() {
        await p.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

export interface ErrorShareAlertOptions {
  alert?: string;
  /** Fires when the 5xx share over `windowSeconds` exceeds this (0..1). */
  threshold: number;
  windowSeconds?: number;
  forSeconds?: number;
  preset?: MetricsPreset;
}

/** A rule file with one alert per (namespace, service) whose 5xx share is above a threshold. */
export function errorShareAlertRule(opts: ErrorShareAlertOptions): string {
  const c = PRESETS[opts.preset ?? 'default'];
  const by = `${c.namespaceLabel}, ${c.serviceLabel}`;
  const extra = Object.entries(c.extraMatchers).map(([k, v]) => `,${k}=${JSON.stringify(v)}`).join('');
  const window = `${String(opts.windowSeconds ?? 5)}s`;
  const errors = `sum by (${by}) (rate(${c.requests}{${c.statusLabel}=~${promString(c.serverErrors)}${extra}}[${window}]))`;
  const all = `sum by (${by}) (rate(${c.requests}{${c.statusLabel}=~".+"${extra}}[${window}]))`;
  const alert = opts.alert ?? 'HighErrorShare';
  return stringify({
    groups: [
      {
        name: 'rollguard-test',
        rules: [
          {
            alert,
            expr: `${errors} / ${all} > ${String(opts.threshold)}`,
            for: `${String(opts.forSeconds ?? 0)}s`,
            labels: { severity: 'page' },
            annotations: { summary: `5xx share of {{ $labels.${c.serviceLabel} }} above ${String(opts.threshold)}` },
          },
        ],
      },
    ],
  });
}
