import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsPreset } from '../../src/core/policy.js';
import { PRESETS } from '../../src/metrics/conventions.js';
import type { MetricConvention } from '../../src/metrics/conventions.js';

// A scrape target whose traffic a test steers: per (namespace, service) a request rate, a 5xx share
// and a latency distribution. Counters integrate the rate over time: every scrape (and every
// change) advances them by rate × seconds since the previous advance, so what Prometheus stores is
// determined by the scrape times alone. Names and labels follow a rollguard metrics preset.

export interface Traffic {
  /** Requests per second. */
  rps: number;
  /** Share of requests answered 500 (the rest 200), 0..1. */
  errorShare: number;
  /** Every request takes this long, or a mix of [seconds, share] whose shares sum to 1. */
  latencySeconds: number | readonly (readonly [seconds: number, share: number])[];
}

export const DEFAULT_TRAFFIC: Traffic = { rps: 10, errorShare: 0, latencySeconds: 0.05 };

/** The Prometheus client libraries' default buckets, in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const OK_CODE = '200';
export const ERROR_CODE = '500';

interface ServiceState {
  namespace: string;
  service: string;
  /** The serving pod, rendered under the preset's pod label; undefined: the series carry none. */
  pod: string | undefined;
  traffic: Traffic;
  /** ms since epoch up to which the counters are integrated. */
  at: number;
  ok: number;
  errors: number;
  /** Cumulative count per bucket of `buckets` (without +Inf, which is ok + errors). */
  buckets: number[];
  sumSeconds: number;
}

export interface TrafficModelOptions {
  preset?: MetricsPreset;
  buckets?: readonly number[];
  /** ms since epoch; Date.now by default. */
  clock?: () => number;
}

function mix(latency: Traffic['latencySeconds']): readonly (readonly [number, number])[] {
  if (typeof latency === 'number') return [[latency, 1]];
  const total = latency.reduce((s, [, share]) => s + share, 0);
  if (latency.length === 0 || Math.abs(total - 1) > 1e-9) throw new Error(`latency shares must sum to 1, got ${String(total)}`);
  return latency;
}

function validate(t: Traffic): void {
  if (!(t.rps >= 0) || !Number.isFinite(t.rps)) throw new Error(`rps must be a finite number >= 0, got ${String(t.rps)}`);
  if (!(t.errorShare >= 0 && t.errorShare <= 1)) throw new Error(`errorShare must be within 0..1, got ${String(t.errorShare)}`);
  for (const [seconds] of mix(t.latencySeconds)) if (!(seconds >= 0)) throw new Error(`latency must be >= 0 s, got ${String(seconds)}`);
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function series(name: string, labels: Readonly<Record<string, string>>): string {
  return `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',')}}`;
}

/** The counters behind the exporter, without HTTP: unit-testable with a fake clock. */
export class TrafficModel {
  readonly convention: MetricConvention;
  readonly buckets: readonly number[];
  private readonly clock: () => number;
  private readonly services = new Map<string, ServiceState>();

  constructor(opts: TrafficModelOptions = {}) {
    this.convention = PRESETS[opts.preset ?? 'default'];
    this.buckets = [...(opts.buckets ?? DEFAULT_BUCKETS)].sort((a, b) => a - b);
    this.clock = opts.clock ?? Date.now;
  }

  /**
   * Changes a service's traffic from now on (a new service starts at zero now); fields left out
   * keep their current value (DEFAULT_TRAFFIC for a new service). With `pod`, the traffic of one
   * pod of the service: its own series, labelled with the preset's pod label.
   */
  set(namespace: string, service: string, change: Partial<Traffic>, pod?: string): void {
    const key = `${namespace}\u0000${service}\u0000${pod ?? ''}`;
    const now = this.clock();
    let s = this.services.get(key);
    if (s === undefined) {
      s = { namespace, service, pod, traffic: DEFAULT_TRAFFIC, at: now, ok: 0, errors: 0, buckets: this.buckets.map(() => 0), sumSeconds: 0 };
    } else {
      this.advance(s, now);
    }
    const traffic = { ...s.traffic, ...change };
    validate(traffic);
    s.traffic = traffic;
    this.services.set(key, s);
  }

  /** The traffic currently set for a service (or one pod of it), undefined when it was never set. */
  get(namespace: string, service: string, pod?: string): Traffic | undefined {
    return this.services.get(`${namespace}\u0000${service}\u0000${pod ?? ''}`)?.traffic;
  }

  private advance(s: ServiceState, now: number): void {
    const seconds = Math.max(0, now - s.at) / 1000;
    s.at = Math.max(s.at, now);
    const n = s.traffic.rps * seconds;
    if (n === 0) return;
    const errors = n * s.traffic.errorShare;
    s.errors += errors;
    s.ok += n - errors;
    const latency = mix(s.traffic.latencySeconds);
    this.buckets.forEach((le, i) => {
      const share = latency.reduce((acc, [sec, sh]) => (sec <= le ? acc + sh : acc), 0);
      s.buckets[i] = (s.buckets[i] ?? 0) + n * share;
    });
    s.sumSeconds += n * latency.reduce((acc, [sec, sh]) => acc + sec * sh, 0);
  }

  /** Advances every counter to `now` and renders them in the Prometheus text format (0.0.4). */
  render(now: number = this.clock()): string {
    const c = this.convention;
    const histogram = c.latencyBuckets.replace(/_bucket$/, '');
    const requests: string[] = [`# HELP ${c.requests} Requests by status code.`, `# TYPE ${c.requests} counter`];
    const latency: string[] = [`# HELP ${histogram} Request latency.`, `# TYPE ${histogram} histogram`];
    for (const s of this.services.values()) {
      this.advance(s, now);
      const pod = s.pod !== undefined && c.podLabel !== '' ? { [c.podLabel]: s.pod } : {};
      const base = { ...c.extraMatchers, [c.namespaceLabel]: s.namespace, [c.serviceLabel]: s.service, ...pod };
      requests.push(`${series(c.requests, { ...base, [c.statusLabel]: OK_CODE })} ${String(s.ok)}`);
      requests.push(`${series(c.requests, { ...base, [c.statusLabel]: ERROR_CODE })} ${String(s.errors)}`);
      this.buckets.forEach((le, i) => {
        latency.push(`${series(c.latencyBuckets, { ...base, le: String(le / c.leUnitSeconds) })} ${String(s.buckets[i] ?? 0)}`);
      });
      const count = s.ok + s.errors;
      latency.push(`${series(c.latencyBuckets, { ...base, le: '+Inf' })} ${String(count)}`);
      latency.push(`${series(`${histogram}_sum`, base)} ${String(s.sumSeconds / c.leUnitSeconds)}`);
      latency.push(`${series(`${histogram}_count`, base)} ${String(count)}`);
    }
    return `${[...requests, ...latency].join('\n')}\n`;
  }
}

export interface Scrape {
  /** ms since epoch, when the exporter rendered the body. */
  at: number;
  body: string;
}

export interface TestExporter {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** 127.0.0.1:PORT, for a scrape config. */
  readonly target: string;
  readonly metricsPath: string;
  readonly model: TrafficModel;
  /** Every scrape so far (the last 1000), oldest first. */
  readonly scrapes: readonly Scrape[];
  set(namespace: string, service: string, change: Partial<Traffic>, pod?: string): void;
  stop: () => Promise<void>;
}

/** Serves a TrafficModel on 127.0.0.1 (free port) at /metrics. */
export async function startTestExporter(opts: TrafficModelOptions & { model?: TrafficModel } = {}): Promise<TestExporter> {
  const model = opts.model ?? new TrafficModel(opts);
  const clock = opts.clock ?? Date.now;
  const scrapes: Scrape[] = [];
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    const at = clock();
    const body = model.render(at);
    scrapes.push({ at, body });
    if (scrapes.length > 1000) scrapes.shift();
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    target: `127.0.0.1:${port}`,
    metricsPath: '/metrics',
    model,
    scrapes,
    set: (namespace, service, change, pod) => {
      model.set(namespace, service, change, pod);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
