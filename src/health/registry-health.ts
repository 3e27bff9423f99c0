import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { DependencyHealth, type Dependency } from './dependency-health.js';
import { Prober, type Probe } from './prober.js';

// Dependency health for a process whose metrics live on one registry (the webhook): a gauge
// `<prefix>_dependency_up` and a counter `<prefix>_dependency_failures_total` per dependency, fed
// by probes run at start and every interval.

export interface RegistryHealth {
  health: DependencyHealth;
  /** Runs the first round (awaited) and schedules the next ones. */
  start(): Promise<void>;
  stop(): void;
}

export function registryHealth(opts: { registry: Registry; prefix: string; logger: Logger; probes: Partial<Record<Dependency, Probe>>; intervalMs?: number }): RegistryHealth {
  const up = new Gauge({ name: `${opts.prefix}_dependency_up`, help: '1 while the dependency answered its last probe, 0 while it fails.', labelNames: ['dependency'], registers: [opts.registry] });
  const failures = new Counter({ name: `${opts.prefix}_dependency_failures_total`, help: 'Failed probes, by dependency.', labelNames: ['dependency'], registers: [opts.registry] });
  const health = new DependencyHealth({
    logger: opts.logger,
    clock: Date.now,
    metrics: {
      up: (dependency, value) => {
        up.set({ dependency }, value);
      },
      failed: (dependency) => {
        failures.inc({ dependency });
      },
    },
  });
  const prober = new Prober({ health, probes: opts.probes, ...(opts.intervalMs === undefined ? {} : { intervalMs: opts.intervalMs }) });
  return {
    health,
    start: () => prober.start(),
    stop: () => {
      prober.stop();
    },
  };
}
