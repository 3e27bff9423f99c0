import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCertificates } from '../../src/certs/store.js';
import { rng as seeded } from '../../test/support/metric-scenarios.js';
import { describeFigures, figures, ms, type Figures } from './latency.js';
import { openLoop, type Sample } from './open-loop.js';
import { reviewMix } from './review-mix.js';
import { rssGrowth, type RssSample, type RssGrowth } from './rss-growth.js';
import { procSample } from '../agent-process.js';
import { rssBytes, scrapeSum, startEcho, startRollguard, type ServerUnderLoad } from './load-servers.js';
import { median } from '../stats.js';
import { count, type HardenPart, type HardenRow } from './table.js';

// Issue 17 part 1, the webhook under load: an open-loop generator (this process) sends real
// AdmissionReviews over TLS to `rollguard webhook` and, under the same load in the same run, to a
// bare node:https server that parses each body and echoes its uid (each server its own process).
// Phases, each run against the baseline and then rollguard: steady (rate × duration), a spike from
// 100/s to 2,000/s within 10 s, and a ramp ×1.25 per step until p99 passes 1 s or a request fails
// (the knee). The figures' bounds (p99 ≤ 1.5× the baseline's, max < 1 s, RSS growth < 10% over
// the second half, event-loop delay p99 < 20 ms) are checked on the full run only: a few seconds
// on a shared machine say nothing of them; a failed request is lost in either.

export interface LoadOptions {
  /** Steady arrival rate, reviews/s. */
  rate: number;
  durationMs: number;
  seed?: number;
}

interface Shape {
  warmupMs: number;
  steadyMs: number;
  steadyRate: number;
  spikeBaseMs: number;
  spikeRiseMs: number;
  spikeHoldMs: number;
  stepMs: number;
  firstStep: number;
  maxSteps: number;
}

const SPIKE_FROM = 100;
const SPIKE_TO = 2000;
const KNEE_P99_MS = 1000;

function shape(opts: LoadOptions, short: boolean): Shape {
  return short
    ? { warmupMs: 500, steadyMs: 2000, steadyRate: Math.min(opts.rate, 200), spikeBaseMs: 500, spikeRiseMs: 1000, spikeHoldMs: 500, stepMs: 1000, firstStep: 500, maxSteps: 2 }
    : { warmupMs: 10_000, steadyMs: opts.durationMs, steadyRate: opts.rate, spikeBaseMs: 10_000, spikeRiseMs: 10_000, spikeHoldMs: 20_000, stepMs: 10_000, firstStep: 250, maxSteps: 20 };
}

function spikeRate(s: Shape): (t: number) => number {
  return (t) => (t < s.spikeBaseMs ? SPIKE_FROM : t < s.spikeBaseMs + s.spikeRiseMs ? SPIKE_FROM + ((SPIKE_TO - SPIKE_FROM) * (t - s.spikeBaseMs)) / s.spikeRiseMs : SPIKE_TO);
}

interface Steady {
  figures: Figures;
  /** The resident set over the second half (rss-growth.ts). */
  rss: RssGrowth;
  /** Event-loop delay p99 of each 5 s window (ms), as the server measured it. */
  eventLoop: number[];
  /** The server process's CPU time (all its threads) per answered review over the phase, µs. */
  cpuUsPerReview: number;
  /** The same CPU time per second of the phase: the share of a core the load kept busy. */
  coreShare: number;
}

async function steady(server: ServerUnderLoad, s: Shape, load: (rate: (t: number) => number, ms: number, tick?: (t: number) => unknown) => Promise<Sample[]>): Promise<Steady> {
  const rss: RssSample[] = [];
  const loop: number[] = [];
  // Each reading covers the time since the one before: one before the phase starts the first window.
  const eventLoopP99 = async (): Promise<void> => {
    const v = await server.eventLoopP99();
    if (v !== undefined) loop.push(v);
  };
  await eventLoopP99();
  loop.length = 0;
  const cpu0 = procSample(server.process.pid).cpuSeconds;
  const began = performance.now();
  const samples = await load(() => s.steadyRate, s.steadyMs, (t) => {
    void rssBytes(server.process.pid).then((bytes) => rss.push({ t, bytes }), () => undefined);
    if (Math.round(t / 1000) % 5 === 0) void eventLoopP99();
  });
  const cpuSeconds = procSample(server.process.pid).cpuSeconds - cpu0;
  const elapsedSeconds = (performance.now() - began) / 1000;
  await eventLoopP99();
  const f = figures(samples);
  return {
    figures: f,
    rss: rssGrowth(rss, s.steadyMs),
    eventLoop: loop,
    cpuUsPerReview: (cpuSeconds * 1e6) / Math.max(1, f.n - f.failed),
    coreShare: cpuSeconds / elapsedSeconds,
  };
}

interface Knee {
  /** The highest rate that held, or 0. */
  held: number;
  /** The first rate that broke and how; undefined when every step held. */
  broke?: { rate: number; figures: Figures };
}

async function ramp(s: Shape, load: (rate: (t: number) => number, ms: number) => Promise<Sample[]>): Promise<Knee> {
  let held = 0;
  let rate = s.firstStep;
  for (let step = 0; step < s.maxSteps; step++) {
    const f = figures(await load(() => rate, s.stepMs));
    if (f.failed > 0 || f.p99 > KNEE_P99_MS) return { held, broke: { rate, figures: f } };
    held = rate;
    rate = Math.round(rate * 1.25);
  }
  return { held };
}

function kneeText(k: Knee, s: Shape): string {
  if (k.broke === undefined) return `held every step up to ${count(k.held)}/s (the last tried)`;
  const why = k.broke.figures.failed > 0 ? `${count(k.broke.figures.failed)} failed (${k.broke.figures.reasons})` : `p99 ${ms(k.broke.figures.p99)} ms`;
  return `held ${count(k.held)}/s, broke at ${count(k.broke.rate)}/s (${why}) [${String(s.stepMs / 1000)} s steps ×1.25 from ${count(s.firstStep)}/s]`;
}

/** The worst window's event-loop delay p99 (ms); infinite when nothing was read. */
const worst = (windows: readonly number[]): number => (windows.length === 0 ? Infinity : Math.max(...windows));

function loopText(windows: readonly number[]): string {
  if (windows.length === 0) return 'not read';
  return `worst ${ms(worst(windows))} / median ${ms(median(windows))} ms`;
}

const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);
const percent = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;

/** Reviews the webhook admitted unstamped because it was overloaded, so far. */
const shedSoFar = (server: ServerUnderLoad): Promise<number> => (server.healthPort === undefined ? Promise.resolve(0) : scrapeSum(server.healthPort, 'rollguard_webhook_shed_total'));

const shedText = (shed: number, of: number): string => `${count(shed)} of ${count(of)} shed (admitted unstamped)`;

export function webhookUnderLoad(opts: LoadOptions): HardenPart {
  return {
    name: 'webhook: under load',
    async run({ short }): Promise<HardenRow> {
      const s = shape(opts, short);
      const rand = seeded(opts.seed ?? 17);
      const mix = reviewMix();
      const dir = await mkdtemp(join(tmpdir(), 'rollguard-load-'));
      const certs = await ensureCertificates({ outDir: dir, names: ['localhost', '127.0.0.1'], days: 1, now: Date.now() });
      const tls = { cert: certs.paths.cert, key: certs.paths.key };
      const servers: ServerUnderLoad[] = [];
      try {
        const echo = await startEcho({ ...tls, ca: certs.caPem });
        servers.push(echo);
        const rollguard = await startRollguard(tls, ['--log-level', 'warn']);
        servers.push(rollguard);
        let bytes: number[] = [];
        const loadOn = (server: ServerUnderLoad) => async (rate: (t: number) => number, durationMs: number, tick?: (t: number) => unknown) => {
          const samples = await openLoop({ target: { port: server.port, path: server.path, ca: () => certs.caPem }, rate, durationMs, freshShare: 0.1, next: () => mix.next(rand), rand, ...(tick ? { tick } : {}) });
          bytes = bytes.concat(samples.map((x) => x.bytes));
          return samples;
        };
        for (const server of servers) await loadOn(server)(() => s.steadyRate / 2, s.warmupMs);
        const base = await steady(echo, s, loadOn(echo));
        const shed0 = await shedSoFar(rollguard);
        const rg = await steady(rollguard, s, loadOn(rollguard));
        const shed1 = await shedSoFar(rollguard);
        const spikeMs = s.spikeBaseMs + s.spikeRiseMs + s.spikeHoldMs;
        const baseSpike = figures(await loadOn(echo)(spikeRate(s), spikeMs));
        const rgSpike = figures(await loadOn(rollguard)(spikeRate(s), spikeMs));
        const shed2 = await shedSoFar(rollguard);
        const baseKnee = await ramp(s, loadOn(echo));
        const rgKnee = await ramp(s, loadOn(rollguard));
        const lost: string[] = [];
        // Below the knee every review is to be stamped: shedding there is a loss too.
        if (!short && shed1 > shed0) lost.push(`steady: ${count(shed1 - shed0)} reviews shed (admitted unstamped) below the knee`);
        if (rg.figures.failed > 0) lost.push(`steady: ${count(rg.figures.failed)} failed reviews (${rg.figures.reasons})`);
        if (rgSpike.failed > 0) lost.push(`spike: ${count(rgSpike.failed)} failed reviews (${rgSpike.reasons})`);
        if (!rollguard.process.running()) lost.push('the webhook process died');
        if (!short) {
          if (rg.figures.p99 > 1.5 * base.figures.p99) lost.push(`steady p99 ${ratio(rg.figures.p99, base.figures.p99)} the baseline's, over 1.5×`);
          if (rg.figures.max >= 1000) lost.push(`steady max ${ms(rg.figures.max)} ms, not under 1 s`);
          if (!(rg.rss.growth < 0.1)) lost.push(`RSS grew ${percent(rg.rss.growth)} over the second half, not under 10%`);
          if (!(worst(rg.eventLoop) < 20)) lost.push(`event-loop delay p99 ${ms(worst(rg.eventLoop))} ms in the worst 5 s window, not under 20 ms`);
          if (rgSpike.p99 > 1.5 * baseSpike.p99) lost.push(`spike p99 ${ratio(rgSpike.p99, baseSpike.p99)} the baseline's, over 1.5×`);
        }
        const medianBytes = median(bytes);
        const rate = `${count(s.steadyRate)}/s × ${String(s.steadyMs / 1000)} s`;
        return {
          part: this.name,
          held:
            `steady ${rate}: rollguard ${describeFigures(rg.figures)}, ${shedText(shed1 - shed0, rg.figures.n)}; baseline ${describeFigures(base.figures)}; p99 ratio ${ratio(rg.figures.p99, base.figures.p99)}; ` +
            `CPU per review (the process, all threads): rollguard ${rg.cpuUsPerReview.toFixed(0)} µs, ${rg.coreShare.toFixed(2)} of a core; baseline ${base.cpuUsPerReview.toFixed(0)} µs, ${base.coreShare.toFixed(2)} of a core; ` +
            `rollguard RSS over the second half ${mb(rg.rss.startBytes)} → ${mb(rg.rss.endBytes)} MB (medians of its first and last ${String(rg.rss.windowMs / 1000)} s: growth ${percent(rg.rss.growth)}; peak ${percent(rg.rss.peak)} over the start), event-loop delay p99 over 5 s windows (monitorEventLoopDelay at 10 ms resolution, read by each server): rollguard ${loopText(rg.eventLoop)}, baseline ${loopText(base.eventLoop)}; ` +
            `spike ${count(SPIKE_FROM)}→${count(SPIKE_TO)}/s in ${String(s.spikeRiseMs / 1000)} s: rollguard ${describeFigures(rgSpike)}, ${shedText(shed2 - shed1, rgSpike.n)}; baseline ${describeFigures(baseSpike)}; p99 ratio ${ratio(rgSpike.p99, baseSpike.p99)}; ` +
            `knee (p99 > 1 s or a failure): rollguard ${kneeText(rgKnee, s)}; baseline ${kneeText(baseKnee, s)}`,
          tried: `open-loop AdmissionReviews over TLS from a separate process (latency from the intended send time), 10% on a fresh connection: 70% Deployment, 20% ConfigMap, 5% Secret, 5% Job; ${count(bytes.length)} bodies, median ${(medianBytes / 1024).toFixed(1)} KB, 5% at 256 KB, 0.1% at 3 MiB; rollguard webhook --no-kube (/mutate) vs a bare node:https server (parse, echo uid), each its own process, same load in the same run`,
          lost,
        };
      } finally {
        await Promise.all(servers.map((x) => x.process.stop()));
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
