import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureCertificates } from '../../src/certs/store.js';
import { paths } from '../../src/kube/rest.js';
import { deployedTwice } from '../../test/support/agent-helpers.js';
import { adminControlPlane, type ControlPlane } from '../../test/support/control-plane-admin.js';
import { restartApiserver } from '../../test/support/apiserver-restart.js';
import { ENABLE_HINT, launchControlPlane, locateControlPlane } from '../../test/support/control-plane-launch.js';
import { startStack, type Stack } from '../../test/support/rollguard-stack.js';
import { waitFor } from '../../test/support/wait.js';
import { AgentReplicas, LEASE } from './agent-replicas.js';
import { checkSchedule, INVARIANT_LABELS, INVARIANTS, type DeployOutcome, type Interval, type Invariant, type Verdict } from './fault-invariants.js';
import { FaultProxy } from './fault-proxy.js';
import { describeSchedule, deployNames, FAULT_KINDS, FAULT_LABELS, faultSchedules, type Fault, type FaultKind, type Schedule } from './fault-schedule.js';
import { seededRandom } from './seeded-random.js';
import type { HardenPart, HardenRow } from './table.js';
import { TcpGate } from './tcp-gate.js';

// Part 5 of `npm run harden` (issue 17): the agent through faults. Two agent processes on the real
// control plane, each behind the harness's own fault proxy (loopback), Prometheus behind a gate; every
// schedule deploys, regresses (auto and suggest namespaces) and injects its faults, then checks the
// invariants of fault-invariants.ts. The apiserver goes away for real where the harness owns the
// control plane (`npm run harden` launches one): its process is killed and started again with the
// same command line, so watches resume against a new watch cache. In CI the control plane is
// shared by the whole test run, so there the proxy closes its ports instead (every connection
// refused, every open one cut). Seeded: the seed is printed, and `--seed=N --schedule=I` replays
// one schedule.

export const AGENT_FAULTS_PART = 'agent through faults';

export interface AgentFaultsOptions {
  schedules: number;
  windowMs: number;
  /** The run's control plane (tests); default: one launched for the run and stopped after it. */
  controlPlane?: () => Promise<ControlPlane>;
  seed?: number;
  /** Only this schedule of the seed's sequence (replay). */
  only?: number;
  /** Progress lines (the seed, each schedule, each violation). */
  say?: (line: string) => void;
}

const SLOTS = ['a', 'b'];
const SETTLE_MS = 60_000;
const OUTCOME_MS = 90_000;

function policyText(suggestNs: string): string {
  return `default:
  mode: auto
  metrics: { step: 1s, baseline: 5m }
  thresholds: { persistence: 3, minRequests: 100 }
namespaces:
  ${suggestNs}: { mode: suggest }
`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

interface Env {
  stack: Stack;
  proxy: FaultProxy;
  gate: TcpGate;
  replicas: AgentReplicas;
  /** Kills the apiserver process for `downMs` and starts it again; only on a control plane of the harness's own. */
  restartApiserver?: (downMs: number) => Promise<Interval>;
  close(): Promise<void>;
}

async function environment(count: number, opts: AgentFaultsOptions, random: () => number): Promise<Env> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    let cp: ControlPlane;
    let restart: Env['restartApiserver'];
    if (opts.controlPlane !== undefined) cp = await opts.controlPlane();
    else {
      const located = locateControlPlane();
      if (!located.ok) throw new Error(`no Kubernetes control plane (${located.reason}); ${ENABLE_HINT}`);
      const launched = await launchControlPlane(located);
      cleanups.push(() => launched.stop());
      cp = adminControlPlane(launched.facts);
      restart = async (downMs) => {
        const r = await restartApiserver(launched.facts, downMs);
        // Back from its start, not its /readyz: it serves watches while still warming up, and a
        // client that got through then has no reason to try again.
        return { from: r.killedAt, to: r.startedAt };
      };
    }
    const names = Array.from({ length: count }, (_, i) => deployNames(i));
    const stack = await startStack({
      prefix: 'faults',
      controlPlane: cp,
      services: names.flatMap((n) => n.auto).map((service) => ({ service })),
      moreNamespaces: [{ prefix: 'sg', services: names.flatMap((n) => n.suggest).map((service) => ({ service })) }],
    });
    cleanups.push(() => stack.stop());
    await writeFile(stack.policyPath, policyText(stack.more[0] ?? ''));
    const gate = await TcpGate.start(stack.prometheus.url);
    cleanups.push(() => gate.shut());
    const certs = await ensureCertificates({ outDir: join(stack.dir, 'proxy-certs'), names: ['127.0.0.1', 'localhost'], days: 1, now: Date.now() });
    const proxy = await FaultProxy.start({ upstream: cp.apiserverUrl, upstreamCa: await readFile(cp.caFile, 'utf8'), cert: await readFile(certs.paths.cert, 'utf8'), key: await readFile(certs.paths.key, 'utf8'), slots: SLOTS, random });
    cleanups.push(() => proxy.close());
    const replicas = await AgentReplicas.start(stack, proxy, gate.url(), SLOTS);
    cleanups.push(() => replicas.stop());
    return { stack, proxy, gate, replicas, ...(restart === undefined ? {} : { restartApiserver: restart }), close };
  } catch (err) {
    await close();
    throw err;
  }
}

async function leaseHolder(stack: Stack): Promise<string | undefined> {
  const lease = await stack.admin.get<{ spec?: { holderIdentity?: string | null } }>(paths.lease(stack.own, 'rollguard-agent'));
  return lease.spec?.holderIdentity ?? undefined;
}

/** Both replicas ready, exactly one of them leading, and the Lease naming it. */
async function steady(env: Env): Promise<boolean> {
  const rs = env.replicas.list();
  if (rs.length !== SLOTS.length) return false;
  const answers = await Promise.all(rs.map(async (r) => {
    const res = await fetch(`${r.base}/readyz`, { signal: AbortSignal.timeout(2000) });
    return { identity: r.identity, ok: res.status === 200, text: await res.text() };
  }));
  const leaders = answers.filter((a) => /leader \(/.test(a.text));
  if (!answers.every((a) => a.ok) || leaders.length !== 1) return false;
  return (await leaseHolder(env.stack)) === leaders[0]?.identity;
}

type DecisionJson = { deployment: string; verdict: string; state: string; summary: string };

async function decisionsOf(env: Env, ns: string): Promise<DecisionJson[]> {
  for (const r of env.replicas.list()) {
    try {
      const res = await fetch(`${r.base}/decisions?namespace=${ns}`, { signal: AbortSignal.timeout(3000) });
      if (res.ok) return ((await res.json()) as { decisions: DecisionJson[] }).decisions;
    } catch {
      // the other replica answers
    }
  }
  return [];
}

interface ScheduleResult {
  schedule: Schedule;
  injected: Map<FaultKind, number>;
  verdicts: Record<Invariant, Verdict>;
}

async function runSchedule(env: Env, schedule: Schedule, say: (line: string) => void): Promise<ScheduleResult> {
  const { stack, proxy, gate, replicas } = env;
  const t0 = Date.now();
  const logStart = proxy.log.length;
  const apiserverDown: Interval[] = [];
  const injected = new Map<FaultKind, number>();
  let lastFaultEnd = t0;
  const ended = (kind: FaultKind, n = 1) => {
    injected.set(kind, (injected.get(kind) ?? 0) + n);
    lastFaultEnd = Math.max(lastFaultEnd, Date.now());
  };
  const nsOf = (mode: 'auto' | 'suggest') => (mode === 'auto' ? stack.ns : (stack.more[0] ?? ''));

  const deploys = schedule.deploys.map(async (d) => {
    await sleep(t0 + d.atMs - Date.now());
    await waitFor(`deploy ${d.name}`, async () => {
      await stack.admin.request('DELETE', paths.deployment(nsOf(d.mode), d.name)).catch(() => undefined);
      await deployedTwice(stack, d.name, nsOf(d.mode));
      return true;
    }, { timeoutMs: 120_000, intervalMs: 1000 });
    if (d.regress) stack.exporter.set(nsOf(d.mode), d.name, { errorShare: 0.2 });
  });
  let killArmed: Fault | undefined;
  proxy.onRollback = () => {
    const f = killArmed;
    if (f === undefined) return 'forward';
    killArmed = undefined;
    ended('kill-leader-mid-rollback');
    return f.patchLands === true ? 'kill-after' : 'kill-before';
  };
  const faults = schedule.faults.map(async (f) => {
    await sleep(t0 + f.atMs - Date.now());
    const from = Date.now();
    switch (f.kind) {
      case 'kill-leader-mid-rollback':
        killArmed = f;
        return;
      case 'pause-leader': {
        const holder = await leaseHolder(stack).catch(() => undefined);
        const target = holder !== undefined && replicas.byIdentity(holder) !== undefined ? holder : replicas.list()[0]?.identity;
        if (target === undefined) return;
        await replicas.pause(target, f.durationMs);
        ended(f.kind);
        return;
      }
      case 'apiserver-down':
        if (env.restartApiserver !== undefined) {
          apiserverDown.push(await env.restartApiserver(f.durationMs));
          ended(f.kind);
          return;
        }
        await proxy.stopUpstream();
        await sleep(f.durationMs);
        await proxy.startUpstream();
        apiserverDown.push({ from, to: Date.now() });
        ended(f.kind);
        return;
      case 'watch-gone':
        ended(f.kind, proxy.endWatchesWithGone());
        return;
      case 'latency':
        proxy.delayFor(f.durationMs);
        await sleep(f.durationMs);
        ended(f.kind);
        return;
      case 'resets':
        proxy.resetFor(f.durationMs);
        await sleep(f.durationMs);
        ended(f.kind);
        return;
      case 'prometheus-down':
        await gate.shut();
        await sleep(f.durationMs);
        await gate.open();
        ended(f.kind);
        return;
    }
  });
  await Promise.all([...deploys, ...faults, sleep(schedule.windowMs)]);

  // The regressions play out (a kill armed meanwhile still fires on the first rollback patch): every
  // regression decided, every auto decision carried out.
  const landed = (name: string) => proxy.log.slice(logStart).some((q) => q.rollback === true && q.path.endsWith(`/deployments/${name}`) && q.status !== undefined && q.status < 300);
  await waitFor('every regression decided and every auto decision carried out', async () => {
    for (const d of schedule.deploys.filter((x) => x.regress)) {
      const ds = (await decisionsOf(env, nsOf(d.mode))).filter((x) => x.deployment === d.name);
      if (ds.length === 0 || (ds.some((x) => x.verdict === 'auto') && !landed(d.name))) return false;
    }
    return true;
  }, { timeoutMs: OUTCOME_MS, intervalMs: 500 }).catch(() => undefined);
  killArmed = undefined;
  await replicas.settled();
  if (injected.has('kill-leader-mid-rollback')) lastFaultEnd = Math.max(lastFaultEnd, Date.now());
  const steadyAt = await waitFor('steady state', async () => ((await steady(env)) ? Date.now() : undefined), { timeoutMs: Math.max(1000, lastFaultEnd + SETTLE_MS + 15_000 - Date.now()), intervalMs: 250 }).catch(() => undefined);
  // A second rollback would come within a few evaluation rounds.
  await sleep(5000);
  const outcomesSeen: DeployOutcome[] = [];
  const notes: string[] = [];
  for (const d of schedule.deploys) {
    const ds = (await decisionsOf(env, nsOf(d.mode))).filter((x) => x.deployment === d.name);
    outcomesSeen.push({ deploy: d, verdicts: ds.map((x) => x.verdict) });
    for (const x of ds.filter((y) => y.verdict !== d.mode)) notes.push(`  note: ${d.name} (${d.mode} policy) decided ${x.verdict}, ${x.state}: ${x.summary}`);
  }
  const verdicts = checkSchedule({
    log: proxy.log,
    since: t0,
    renewDeadlineMs: LEASE.renewDeadlineMs,
    unavailable: replicas.unavailable,
    apiserverDown,
    deploys: outcomesSeen,
    crashes: replicas.checkCrashes(),
    lastFaultEnd,
    steadyAt,
  }, t0);
  proxy.onRollback = () => 'forward';
  // Its services healthy again: a later schedule's regression must not look like "everything regressed at once" (R2).
  for (const d of schedule.deploys) {
    stack.exporter.set(nsOf(d.mode), d.name, { errorShare: 0.002 });
    await stack.admin.request('DELETE', paths.deployment(nsOf(d.mode), d.name)).catch(() => undefined);
  }
  say(`${describeSchedule(schedule)}: ${String(Math.round((Date.now() - t0) / 1000))} s, steady ${steadyAt === undefined ? 'never' : `${((steadyAt - lastFaultEnd) / 1000).toFixed(1)} s after the last fault`}`);
  for (const n of notes) say(n);
  for (const inv of INVARIANTS) for (const v of verdicts[inv].violations) say(`  VIOLATION ${inv}: ${v}`);
  return { schedule, injected, verdicts };
}

function rows(results: readonly ScheduleResult[], seed: number, windowMs: number): HardenRow[] {
  const total = results.length;
  const replay = `seed ${String(seed)} (replay: npm run harden -- --part=agent --seed=${String(seed)} --schedule=I)`;
  const out: HardenRow[] = [{ part: AGENT_FAULTS_PART, held: `${String(total)} schedules of ${String(windowMs / 1000)} s, two agents on the real control plane`, tried: replay, lost: [] }];
  for (const kind of FAULT_KINDS) {
    const withIt = results.filter((r) => r.schedule.faults.some((f) => f.kind === kind));
    const injected = withIt.reduce((n, r) => n + (r.injected.get(kind) ?? 0), 0);
    const lost = withIt.flatMap((r) => INVARIANTS.flatMap((inv) => r.verdicts[inv].violations.map((v) => `schedule ${String(r.schedule.index)} ${inv}: ${v}`)));
    out.push({ part: `fault: ${FAULT_LABELS[kind]}`, held: `violations: ${String(lost.length)}`, tried: `${String(withIt.length)} schedules run, ${String(injected)} faults injected`, lost });
  }
  for (const inv of INVARIANTS) {
    const checked = results.reduce((n, r) => n + r.verdicts[inv].checked, 0);
    const lost = results.flatMap((r) => r.verdicts[inv].violations.map((v) => `schedule ${String(r.schedule.index)}: ${v}`));
    out.push({ part: `invariant: ${INVARIANT_LABELS[inv]}`, held: `violations: ${String(lost.length)}`, tried: `${String(total)} schedules run, ${String(checked)} checks`, lost });
  }
  return out;
}

export async function runAgentFaults(opts: AgentFaultsOptions): Promise<HardenRow[]> {
  const say = opts.say ?? ((line: string) => process.stderr.write(`${line}\n`));
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
  say(`agent faults: seed ${String(seed)}`);
  const all = faultSchedules(seed, opts.only === undefined ? opts.schedules : opts.only + 1, { windowMs: opts.windowMs, leaseDurationMs: LEASE.durationMs });
  const schedules = opts.only === undefined ? all : all.slice(opts.only);
  const random = seededRandom(seed ^ 0x5eed);
  const env = await environment(all.length, opts, () => random.next());
  const results: ScheduleResult[] = [];
  try {
    for (const schedule of schedules) results.push(await runSchedule(env, schedule, say));
  } finally {
    await env.close();
  }
  return rows(results, seed, opts.windowMs);
}

const flag = (name: string): number | undefined => {
  const v = process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  return v === undefined ? undefined : Number(v);
};

/** The part as `npm run harden` runs it: ≥ 50 schedules (`--schedules=N`), `--short` 3; `--seed=N`, `--schedule=I` replay. */
export function agentFaults(opts: { schedules: number; shortSchedules: number; windowMs: number }): HardenPart {
  return {
    name: AGENT_FAULTS_PART,
    ciFile: 'test/bench/harden-agent-faults.test.ts',
    run: ({ short }) => {
      const seed = flag('seed');
      const only = flag('schedule');
      return runAgentFaults({ schedules: flag('schedules') ?? (short ? opts.shortSchedules : opts.schedules), windowMs: opts.windowMs, ...(seed === undefined ? {} : { seed }), ...(only === undefined ? {} : { only }) });
    },
  };
}
