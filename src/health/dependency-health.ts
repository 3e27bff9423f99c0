import type { Logger } from 'pino';
import { formatInstant } from '../core/duration.js';

// The state of each dependency a process needs (Prometheus, the apiserver, the policy source,
// Slack, the decision webhook), from periodic probes and from the work itself. It is loud on
// changes only: one log line when a dependency breaks and one when it recovers, not one per
// evaluation; every failure is counted; a gauge per dependency reads 1 (up) or 0 (down).

export type Dependency = 'prometheus' | 'apiserver' | 'policy-source' | 'slack' | 'decision-webhook';

export const DEPENDENCY_LABELS: Record<Dependency, string> = {
  prometheus: 'Prometheus',
  apiserver: 'the Kubernetes API',
  'policy-source': 'the policy source',
  slack: 'Slack',
  'decision-webhook': 'the decision webhook',
};

export interface DependencyState {
  dependency: Dependency;
  up: boolean;
  /** When the current state began (epoch ms). */
  since: number;
  /** The last failure's message while down. */
  error: string | undefined;
}

export interface HealthMetrics {
  up(dependency: Dependency, value: 0 | 1): void;
  failed(dependency: Dependency): void;
}

export type HealthChange = { dependency: Dependency; up: boolean; state: DependencyState; downForMs?: number };

export class DependencyHealth {
  private readonly states = new Map<Dependency, DependencyState>();
  private readonly listeners: ((change: HealthChange) => void)[] = [];

  constructor(
    private readonly opts: { logger: Logger; clock: () => number; metrics: HealthMetrics },
  ) {}

  /** Called on every change of a dependency's state (not on repeats). */
  onChange(listener: (change: HealthChange) => void): void {
    this.listeners.push(listener);
  }

  ok(dependency: Dependency): void {
    const before = this.states.get(dependency);
    this.opts.metrics.up(dependency, 1);
    if (before?.up === true) return;
    const now = this.opts.clock();
    const state: DependencyState = { dependency, up: true, since: now, error: undefined };
    this.states.set(dependency, state);
    if (before === undefined) return;
    const downForMs = now - before.since;
    this.opts.logger.info({ dependency, downForMs, lastError: before.error }, `${DEPENDENCY_LABELS[dependency]} is reachable again`);
    this.emit({ dependency, up: true, state, downForMs });
  }

  failed(dependency: Dependency, error: string): void {
    this.opts.metrics.failed(dependency);
    this.opts.metrics.up(dependency, 0);
    const before = this.states.get(dependency);
    if (before !== undefined && !before.up) {
      before.error = error;
      return;
    }
    const state: DependencyState = { dependency, up: false, since: this.opts.clock(), error };
    this.states.set(dependency, state);
    this.opts.logger.error({ dependency, error }, `${DEPENDENCY_LABELS[dependency]} is failing; rollguard is blind to it until it recovers`);
    this.emit({ dependency, up: false, state });
  }

  get(dependency: Dependency): DependencyState | undefined {
    return this.states.get(dependency);
  }

  /** Dependencies that are down, in a stable order. */
  down(): DependencyState[] {
    return [...this.states.values()].filter((s) => !s.up).sort((a, b) => a.dependency.localeCompare(b.dependency));
  }

  /** "Prometheus failing since 2026-…Z: <error>", for evidence and readiness text; undefined while up or unknown. */
  describe(dependency: Dependency): string | undefined {
    const s = this.states.get(dependency);
    if (s === undefined || s.up) return undefined;
    return `${DEPENDENCY_LABELS[dependency]} failing since ${formatInstant(s.since)}: ${s.error ?? 'unknown error'}`;
  }

  private emit(change: HealthChange): void {
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (err) {
        this.opts.logger.warn({ dependency: change.dependency, error: err instanceof Error ? err.message : String(err) }, 'a dependency-health listener failed');
      }
    }
  }
}
