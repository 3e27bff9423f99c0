import { mkdtemp, rm } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TlsRefusal } from '../../src/admission/tls-files.js';
import { createCa, createServingCert, type KeyPairPem } from '../../src/certs/x509.js';
import { rng as seeded } from '../../test/support/metric-scenarios.js';
import { secretVolume } from '../../test/support/secret-volume.js';
import { servedSerial } from '../../test/support/tls-probe.js';
import { waitFor } from '../../test/support/wait.js';
import { describeFigures, figures } from './latency.js';
import { scrape, startRollguard } from './load-servers.js';
import { openLoop } from './open-loop.js';
import { reviewMix } from './review-mix.js';
import { count, type HardenPart, type HardenRow } from './table.js';

// Issue 17 part 4, certificate rotation under load: while the open-loop load runs (10% of the
// requests on a fresh connection, so handshakes happen throughout), the serving pair in a Secret
// volume is replaced every period the way the kubelet does it (the `..data` symlink swap), in a
// cycle: renewals from the same CA; a CA rotation (the client's bundle holds old and new before the
// pair moves to the new CA: the chart's renewal path); and an expired, a mismatched (key not the
// certificate's) and a truncated pair, each of which must be refused: the last good pair keeps
// serving, rollguard_webhook_certificate_reload_failures_total{reason} and a log line say why.
// Every pair is made before the load starts (node-forge's key generation would stall the generator).

const DAY = 86_400_000;
const NAMES = ['localhost', '127.0.0.1'];
type Step = 'renew' | 'ca' | TlsRefusal;
const CYCLE: readonly Step[] = ['renew', 'expired', 'ca', 'mismatched', 'renew', 'malformed'];

interface Event {
  step: Step;
  files: Record<string, string>;
  /** The CA bundle the client trusts from this event on. */
  bundle: string;
  /** The serial a fresh handshake must get once the event is seen. */
  serial: string;
}

const serialOf = (pem: string): string => new X509Certificate(pem).serialNumber.toLowerCase().replace(/^0+/, '');
const files = (pair: KeyPairPem, ca: KeyPairPem): Record<string, string> => ({ 'tls.crt': pair.certPem, 'tls.key': pair.keyPem, 'ca.crt': ca.certPem });

function plan(steps: number, now: number): { first: Event; events: Event[] } {
  // Every CA up front: the client's bundle holds the previous, current and next CA, so the new CA is
  // trusted a whole CA period before the pair moves to it (the chart's caBundle holds old and new),
  // even by a handshake that waits long in a saturated server's accept queue.
  const cas = Array.from({ length: Math.ceil(steps / CYCLE.length) + 2 }, (_, i) => createCa({ commonName: `rollguard-ca-${String(i)}`, days: 30, now }));
  const bundleAt = (k: number): string => cas.slice(Math.max(0, k - 1), k + 2).map((c) => c.certPem).join('');
  let k = 0;
  let ca = cas[0] as KeyPairPem;
  let good = createServingCert({ ca, names: NAMES, days: 10, now });
  const first: Event = { step: 'renew', files: files(good, ca), bundle: bundleAt(0), serial: serialOf(good.certPem) };
  const events: Event[] = [];
  for (let i = 0; i < steps; i++) {
    const step = CYCLE[i % CYCLE.length] as Step;
    const keep = serialOf(good.certPem);
    if (step === 'ca') {
      k++;
      ca = cas[k] as KeyPairPem;
    }
    const bundle = bundleAt(k);
    if (step === 'renew' || step === 'ca') {
      good = createServingCert({ ca, names: NAMES, days: 10, now });
      events.push({ step, files: files(good, ca), bundle, serial: serialOf(good.certPem) });
    } else if (step === 'expired') {
      events.push({ step, files: files(createServingCert({ ca, names: NAMES, days: 1, now: now - 10 * DAY }), ca), bundle, serial: keep });
    } else if (step === 'mismatched') {
      events.push({ step, files: { ...files(good, ca), 'tls.key': first.files['tls.key'] ?? '' }, bundle, serial: keep });
    } else {
      events.push({ step, files: { ...files(good, ca), 'tls.crt': good.certPem.slice(0, Math.floor(good.certPem.length / 2)) }, bundle, serial: keep });
    }
  }
  return { first, events };
}

export function certRotationUnderLoad(opts: { rate: number; durationMs: number; seed?: number }): HardenPart {
  return {
    name: 'webhook: certificate rotation under load',
    async run({ short }): Promise<HardenRow> {
      const periodMs = short ? 700 : 10_000;
      const steps = short ? CYCLE.length : Math.max(CYCLE.length, Math.floor(opts.durationMs / periodMs) - 1);
      const rate = short ? Math.min(opts.rate, 100) : opts.rate;
      const { first, events } = plan(steps, Date.now());
      const dir = await mkdtemp(join(tmpdir(), 'rollguard-rotation-'));
      const volume = await secretVolume(join(dir, 'tls'), first.files);
      const server = await startRollguard({ cert: volume.file('tls.crt'), key: volume.file('tls.key') }, ['--log-level', 'warn']);
      const healthPort = server.healthPort as number;
      let bundle = first.bundle;
      const lost: string[] = [];
      const seen = new Map<Step, number>();
      const refusals = async (reason: string): Promise<number> => (await scrape(healthPort, `rollguard_webhook_certificate_reload_failures_total{reason="${reason}"}`)) ?? 0;
      const check = async (e: Event, before: number): Promise<void> => {
        const served = await servedSerial(server.port, bundle).catch((err: unknown) => `a handshake error (${(err as Error).message})`);
        if (served !== e.serial) lost.push(`after ${e.step}: served ${served}, expected ${e.serial}`);
        if (e.step === 'renew' || e.step === 'ca') return;
        if ((await refusals(e.step)) !== before + 1) lost.push(`${e.step} pair: not counted once in rollguard_webhook_certificate_reload_failures_total`);
        const line = server.process.logTail().split('\n').filter((l) => l.includes('new pair is refused')).at(-1);
        if (line?.includes(`"reason":"${e.step}"`) !== true) lost.push(`${e.step} pair: no log line with its reason`);
      };
      const rotate = async (): Promise<void> => {
        await sleep(periodMs / 2);
        for (const e of events) {
          const began = performance.now();
          const before = e.step === 'renew' || e.step === 'ca' ? 0 : await refusals(e.step);
          bundle = e.bundle;
          await volume.update(e.files);
          // Seen by the directory watch at once (the stat poll, every 2 s, is the fallback); on a
          // busy machine a short run's period may stretch, up to 5 s, rather than fail for it.
          const applied = async (): Promise<boolean> =>
            e.step === 'renew' || e.step === 'ca' ? (await servedSerial(server.port, bundle).catch(() => '')) === e.serial : (await refusals(e.step)) > before;
          await waitFor(`the ${e.step} swap seen`, applied, { timeoutMs: Math.max(periodMs - 150, 5000), intervalMs: 50 }).catch(() => undefined);
          await sleep(Math.max(0, periodMs - 150 - (performance.now() - began)));
          await check(e, before);
          seen.set(e.step, (seen.get(e.step) ?? 0) + 1);
        }
      };
      try {
        const mix = reviewMix();
        const rand = seeded(opts.seed ?? 4);
        // The load runs until the last swap has been checked.
        let rotating = true;
        const began = performance.now();
        const [samples] = await Promise.all([
          openLoop({ target: { port: server.port, path: server.path, ca: () => bundle }, rate: () => rate, until: () => !rotating, durationMs: Infinity, freshShare: 0.1, next: () => mix.next(rand), rand }),
          rotate().finally(() => {
            rotating = false;
          }),
        ]);
        const durationMs = performance.now() - began;
        const f = figures(samples);
        const handshakes = samples.filter((s) => s.failure?.startsWith('handshake') === true).length;
        if (f.failed > 0) lost.push(`${count(f.failed)} failed requests (${f.reasons})`);
        if (!server.process.running()) lost.push('the webhook process died');
        const fresh = samples.filter((s) => s.fresh).length;
        const good = (seen.get('renew') ?? 0) + (seen.get('ca') ?? 0);
        const refused = (['expired', 'mismatched', 'malformed'] as const).map((r) => `${String(seen.get(r) ?? 0)} ${r === 'malformed' ? 'truncated' : r}`).join(', ');
        return {
          part: this.name,
          held: `${count(handshakes)} handshake errors, ${describeFigures(f)}; ${String(good)} swaps served at the next fresh handshake (${String(seen.get('ca') ?? 0)} of them onto a new CA through an old+new bundle); refused with the last good pair serving, a metric and a log line: ${refused}`,
          tried: `${count(rate)}/s for ${(durationMs / 1000).toFixed(1)} s (${count(fresh)} requests on a fresh connection), the Secret volume's ..data swapped every ${String(periodMs / 1000)} s: ${String(events.length)} swaps cycling ${CYCLE.map((c) => (c === 'malformed' ? 'truncated' : c)).join(', ')}`,
          lost,
        };
      } finally {
        await server.process.stop();
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
