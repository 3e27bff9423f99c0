import { seededRandom, type Random } from './seeded-random.js';

// Randomized fault schedules for the agent (issue 17, part 5), all derived from one seed so that a
// failing schedule is replayed exactly (`npm run harden -- --part=agent --seed=N`). Each schedule is a
// window of deploys (some regress under an auto policy, some under a suggest one, some stay clean)
// and three faults; the kinds are dealt from a shuffled deck, so three schedules already cover every
// kind.

export const FAULT_KINDS = ['kill-leader-mid-rollback', 'pause-leader', 'apiserver-down', 'watch-gone', 'latency', 'resets', 'prometheus-down'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const FAULT_LABELS: Record<FaultKind, string> = {
  'kill-leader-mid-rollback': 'SIGKILL of the leader between read and patch',
  'pause-leader': 'SIGSTOP of the leader longer than the Lease, then SIGCONT',
  'apiserver-down': 'kube-apiserver away for 30 s (killed and started again where the run owns the control plane)',
  'watch-gone': 'watches ended with 410 Gone',
  latency: '2–8 s latency on the way to the apiserver',
  resets: 'connection resets on the way to the apiserver',
  'prometheus-down': 'Prometheus down for a minute',
};

const FAULTS_PER_SCHEDULE = 3;

export interface Fault {
  kind: FaultKind;
  /** From the schedule's start. */
  atMs: number;
  /** 0 for an instant fault; for the kill, how long it stays armed (it fires on the first rollback patch). */
  durationMs: number;
  /** The kill: before the patch reaches the apiserver, or after it landed and before the answer. */
  patchLands?: boolean;
}

export type PolicyMode = 'auto' | 'suggest';

export interface PlannedDeploy {
  /** Deployment and service name. */
  name: string;
  mode: PolicyMode;
  /** Whether its service starts failing after the deploy. */
  regress: boolean;
  atMs: number;
}

export interface Schedule {
  index: number;
  seed: number;
  windowMs: number;
  faults: Fault[];
  deploys: PlannedDeploy[];
}

export interface ScheduleOptions {
  windowMs: number;
  /** The Lease duration: a pause lasts longer than it. */
  leaseDurationMs: number;
}

/** The deploy names schedule `index` uses, per mode: the stack declares their services up front. */
export function deployNames(index: number): { auto: string[]; suggest: string[] } {
  return { auto: [`f${index}a0`, `f${index}a1`], suggest: [`f${index}s0`] };
}

function faultOf(kind: FaultKind, rnd: Random, opts: ScheduleOptions): Fault {
  const w = opts.windowMs;
  const s = 1000;
  switch (kind) {
    case 'kill-leader-mid-rollback':
      return { kind, atMs: 0, durationMs: w, patchLands: rnd.next() < 0.5 };
    case 'pause-leader':
      return { kind, atMs: rnd.int(5, Math.max(5, w / s - 20)) * s, durationMs: opts.leaseDurationMs + rnd.int(2, 5) * s };
    case 'apiserver-down':
      return { kind, atMs: rnd.int(0, Math.max(0, w / s - 30)) * s, durationMs: 30 * s };
    case 'watch-gone':
      return { kind, atMs: rnd.int(5, Math.max(5, w / s - 5)) * s, durationMs: 0 };
    case 'latency':
    case 'resets':
      return { kind, atMs: rnd.int(0, Math.max(0, w / s - 20)) * s, durationMs: rnd.int(10, 20) * s };
    case 'prometheus-down':
      return { kind, atMs: 0, durationMs: 60 * s };
  }
}

export function faultSchedules(seed: number, count: number, opts: ScheduleOptions): Schedule[] {
  const rnd = seededRandom(seed);
  let deck: FaultKind[] = [];
  const schedules: Schedule[] = [];
  for (let index = 0; index < count; index++) {
    const kinds: FaultKind[] = [];
    while (kinds.length < FAULTS_PER_SCHEDULE) {
      if (deck.length === 0) deck = rnd.shuffle(FAULT_KINDS);
      const kind = deck.shift() as FaultKind;
      if (!kinds.includes(kind)) kinds.push(kind);
      else deck.push(kind);
    }
    const names = deployNames(index);
    const deploys: PlannedDeploy[] = [
      { name: names.auto[0] ?? '', mode: 'auto', regress: true, atMs: rnd.int(0, 10) * 1000 },
      { name: names.suggest[0] ?? '', mode: 'suggest', regress: true, atMs: rnd.int(0, 20) * 1000 },
      // The third: another auto regression, or a clean deploy that must be left alone.
      { name: names.auto[1] ?? '', mode: 'auto', regress: rnd.next() < 0.5, atMs: rnd.int(5, 25) * 1000 },
    ];
    schedules.push({ index, seed, windowMs: opts.windowMs, faults: kinds.map((k) => faultOf(k, rnd, opts)).sort((a, b) => a.atMs - b.atMs), deploys });
  }
  return schedules;
}

export function describeSchedule(s: Schedule): string {
  const faults = s.faults.map((f) => `${f.kind}@${String(f.atMs / 1000)}s${f.durationMs > 0 && f.kind !== 'kill-leader-mid-rollback' ? `+${String(f.durationMs / 1000)}s` : ''}${f.patchLands === undefined ? '' : f.patchLands ? '(patch lands)' : '(patch lost)'}`);
  const deploys = s.deploys.map((d) => `${d.name}:${d.mode}${d.regress ? '+regress' : ''}@${String(d.atMs / 1000)}s`);
  return `schedule ${String(s.index)} (seed ${String(s.seed)}): faults ${faults.join(', ')}; deploys ${deploys.join(', ')}`;
}
