import type { ProxiedRequest } from './fault-proxy.js';
import type { PlannedDeploy } from './fault-schedule.js';

// The invariants every fault schedule is checked against (issue 17, part 5), computed from what the
// fault proxy saw and what the harness observed; pure, so each can be shown to fail on a bad record.

export const INVARIANTS = ['one-rollback', 'fenced-writes', 'relist-after-410', 'watch-rate', 'backoff-cap', 'no-crash', 'steady-state'] as const;
export type Invariant = (typeof INVARIANTS)[number];

export const INVARIANT_LABELS: Record<Invariant, string> = {
  'one-rollback': 'exactly one rollback per decision that called for one, none for the others',
  'fenced-writes': 'no write by a replica after its renew deadline',
  'relist-after-410': 'after a 410, a relist within 2 s',
  'watch-rate': 'at most one watch request per second per resource',
  'backoff-cap': 'reconnect backoff capped at 30 s',
  'no-crash': 'no crash',
  'steady-state': 'steady state (both /readyz 200, one leader) within a minute of the last fault',
};

export interface Interval {
  from: number;
  to: number;
}

export interface DeployOutcome {
  deploy: PlannedDeploy;
  /** Verdicts of the decisions the agents recorded for it. */
  verdicts: string[];
}

export interface ScheduleRecord {
  /** Everything the proxy saw since the run began (renewals before the schedule count). */
  log: readonly ProxiedRequest[];
  /** When the schedule began: only what happened since is checked. */
  since: number;
  renewDeadlineMs: number;
  /** When a replica could not act or be reached: paused, killed, starting again. */
  unavailable: readonly (Interval & { identity: string })[];
  /** The apiserver away (no request can arrive). */
  apiserverDown: readonly Interval[];
  deploys: readonly DeployOutcome[];
  crashes: readonly string[];
  lastFaultEnd: number;
  steadyAt: number | undefined;
}

export interface Verdict {
  checked: number;
  violations: string[];
}

const WRITE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const LEASE = /\/apis\/coordination\.k8s\.io\/v1\/namespaces\/[^/]+\/leases(\/|$)/;
/** Reviews are POSTs that write nothing. */
const REVIEW = /reviews$/;
/** Slack between a request leaving the agent and the proxy recording it. */
const TRANSIT_MS = 200;
const WATCH_GAP_MS = 1000 - 50;
const RELIST_MS = 2000;
const BACKOFF_CAP_MS = 30_000;
/** A list or watch request needs its own moment after the backoff's last pause. */
const BACKOFF_SLACK_MS = 1500;
/** The fault proxy cuts a reset watch at most this long after it began. */
export const RESET_AFTER_MS = 3000;

const overlaps = (a: Interval, b: Interval): boolean => a.from <= b.to && b.from <= a.to;
const fmt = (at: number, t0: number): string => `${((at - t0) / 1000).toFixed(1)} s`;

function oneRollback(r: ScheduleRecord): Verdict {
  const violations: string[] = [];
  for (const { deploy, verdicts } of r.deploys) {
    const landed = r.log.filter((q) => q.rollback === true && q.path.endsWith(`/deployments/${deploy.name}`) && q.status !== undefined && q.status < 300).length;
    const autos = verdicts.filter((v) => v === 'auto').length;
    if (deploy.mode === 'suggest') {
      if (landed > 0) violations.push(`${deploy.name} (suggest): ${String(landed)} rollbacks`);
      if (autos > 0) violations.push(`${deploy.name} (suggest): a decision with verdict auto`);
      if (deploy.regress && verdicts.length === 0) violations.push(`${deploy.name} (suggest) regressed and no decision was made`);
    } else if (deploy.regress) {
      // A decision may rightly be only a suggestion (data missing meanwhile, F1); an auto one is carried out once.
      const expected = autos > 0 ? 1 : 0;
      if (verdicts.length === 0) violations.push(`${deploy.name} (auto) regressed and no decision was made`);
      else if (landed !== expected) violations.push(`${deploy.name} (auto) regressed: ${String(landed)} rollbacks for verdicts ${verdicts.join(', ')}, expected ${String(expected)}`);
    } else if (landed > 0 || verdicts.includes('auto')) {
      // A clean deploy beside one that regresses may be told to a person (R2 names the other
      // service), never rolled back.
      violations.push(`${deploy.name} (auto, clean): ${String(landed)} rollbacks, verdicts ${verdicts.join(', ')}`);
    }
  }
  return { checked: r.deploys.length, violations };
}

function fencedWrites(r: ScheduleRecord, t0: number): Verdict {
  const violations: string[] = [];
  let checked = 0;
  const byIdentity = new Map<string, ProxiedRequest[]>();
  for (const q of r.log) byIdentity.set(q.identity, [...(byIdentity.get(q.identity) ?? []), q]);
  for (const [identity, requests] of byIdentity) {
    // A renewal round starts at its GET of the Lease; it counts once its write of the Lease succeeded.
    const renewedAt: number[] = [];
    let roundStart: number | undefined;
    for (const q of requests) {
      if (!LEASE.test(q.path)) continue;
      if (q.method === 'GET') roundStart = q.at;
      else if ((q.method === 'PUT' || q.method === 'POST') && q.status !== undefined && q.status < 300 && roundStart !== undefined) renewedAt.push(roundStart);
    }
    for (const q of requests) {
      if (q.at < r.since || !WRITE.has(q.method) || LEASE.test(q.path) || REVIEW.test(q.path)) continue;
      checked++;
      const last = renewedAt.filter((g) => g <= q.at).at(-1);
      if (last === undefined || q.at - last >= r.renewDeadlineMs + TRANSIT_MS) {
        violations.push(`${identity} ${q.method} ${q.path} at ${fmt(q.at, t0)}: ${last === undefined ? 'never renewed before' : `${String(q.at - last)} ms after its last renewal began`}`);
      }
    }
  }
  return { checked, violations };
}

function unreachable(r: ScheduleRecord, identity: string, window: Interval, except?: Interval): boolean {
  return r.unavailable.some((u) => u.identity === identity && overlaps(u, window)) || r.apiserverDown.some((d) => d !== except && overlaps(d, window));
}

function relistAfterGone(r: ScheduleRecord, t0: number): Verdict {
  const violations: string[] = [];
  let checked = 0;
  for (const gone of r.log.filter((q) => q.method === 'GONE' && q.at >= r.since)) {
    const window = { from: gone.at, to: gone.at + RELIST_MS };
    if (unreachable(r, gone.identity, window)) continue;
    checked++;
    const relist = r.log.some((q) => q.identity === gone.identity && q.path === gone.path && q.method === 'GET' && !q.watch && q.at > gone.at && q.at <= window.to);
    if (!relist) violations.push(`${gone.identity} ${gone.path}: no list within 2 s of the 410 at ${fmt(gone.at, t0)}`);
  }
  return { checked, violations };
}

function watchRate(r: ScheduleRecord, t0: number): Verdict {
  const violations: string[] = [];
  let checked = 0;
  const last = new Map<string, number>();
  for (const q of r.log) {
    if (!q.watch || q.method !== 'GET') continue;
    const key = `${q.identity} ${q.path}`;
    const before = last.get(key);
    last.set(key, q.at);
    if (before === undefined || q.at < r.since) continue;
    checked++;
    if (q.at - before < WATCH_GAP_MS) violations.push(`${key}: two watch requests ${String(q.at - before)} ms apart at ${fmt(q.at, t0)}`);
  }
  return { checked, violations };
}

/** A resource's informer must try again within the cap after each cut: its watch reset, or the apiserver away. */
function backoffCap(r: ScheduleRecord, t0: number): Verdict {
  const violations: string[] = [];
  let checked = 0;
  const limit = BACKOFF_CAP_MS + BACKOFF_SLACK_MS;
  // `after`: a later request counts; `cutAt`: when the cut happened at the latest.
  const cuts: { identity: string; path: string; after: number; cutAt: number; cause?: ProxiedRequest; down?: Interval; why: string }[] = [];
  // Only an informer's list and watch are held to the cap: a periodic read (the apiserver probe's
  // /version every 30 s, the Lease) comes back at its own period, not a reconnect backoff.
  const informed = new Set(r.log.filter((q) => q.watch && q.method === 'GET').map((q) => `${q.identity} ${q.path}`));
  for (const q of r.log) {
    if (q.at >= r.since && q.injected === 'reset' && q.method === 'GET' && informed.has(`${q.identity} ${q.path}`)) {
      cuts.push({ identity: q.identity, path: q.path, after: q.at, cutAt: q.at + RESET_AFTER_MS, cause: q, why: 'its connection reset' });
    }
  }
  for (const d of r.apiserverDown) {
    const watched = new Set(r.log.filter((q) => q.watch && q.method === 'GET' && q.at < d.from).map((q) => `${q.identity} ${q.path}`));
    for (const key of watched) {
      const [identity = '', path = ''] = key.split(' ');
      cuts.push({ identity, path, after: d.to, cutAt: d.to, down: d, why: 'the apiserver came back' });
    }
  }
  for (const cut of cuts) {
    if (unreachable(r, cut.identity, { from: cut.after, to: cut.cutAt + limit }, cut.down)) continue;
    checked++;
    const back = r.log.find((q) => q !== cut.cause && q.identity === cut.identity && q.path === cut.path && q.method === 'GET' && q.at >= cut.after);
    if (back === undefined || back.at > cut.cutAt + limit) violations.push(`${cut.identity} ${cut.path}: no list or watch within ${String(limit / 1000)} s after ${cut.why} at ${fmt(cut.cutAt, t0)}${back === undefined ? '' : ` (next at ${fmt(back.at, t0)})`}`);
  }
  return { checked, violations };
}

function steadyState(r: ScheduleRecord): Verdict {
  if (r.steadyAt === undefined) return { checked: 1, violations: ['no steady state within a minute of the last fault'] };
  const after = r.steadyAt - r.lastFaultEnd;
  return { checked: 1, violations: after > 60_000 ? [`steady only ${(after / 1000).toFixed(1)} s after the last fault`] : [] };
}

export function checkSchedule(r: ScheduleRecord, t0: number): Record<Invariant, Verdict> {
  return {
    'one-rollback': oneRollback(r),
    'fenced-writes': fencedWrites(r, t0),
    'relist-after-410': relistAfterGone(r, t0),
    'watch-rate': watchRate(r, t0),
    'backoff-cap': backoffCap(r, t0),
    'no-crash': { checked: 1, violations: [...r.crashes] },
    'steady-state': steadyState(r),
  };
}
