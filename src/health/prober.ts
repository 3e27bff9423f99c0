import type { Dependency, DependencyHealth } from './dependency-health.js';

// Probes each dependency at start and then every interval, whether or not a deploy is being
// evaluated, so a wrong URL shows within a minute of install instead of at the first incident.
// A probe resolves when the dependency answers as it should and throws a message that says why not.

/** What a probe returns when its dependency is not configured: neither up nor down, no gauge. */
export const NOT_CONFIGURED = 'not-configured';

/** Resolves when the dependency answers (anything but NOT_CONFIGURED), throws why it does not. */
export type Probe = () => Promise<unknown>;

export interface ProberOptions {
  health: DependencyHealth;
  probes: Partial<Record<Dependency, Probe>>;
  /** Default 30 s. */
  intervalMs?: number;
}

export class Prober {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly opts: ProberOptions) {}

  /** Runs every probe once now (awaited), then every interval in the background. */
  async start(): Promise<void> {
    await this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.opts.intervalMs ?? 30_000);
    this.timer.unref();
  }

  /** One round of every probe; a round still running is joined, not doubled. */
  runOnce(): Promise<void> {
    this.running ??= Promise.all(Object.entries(this.opts.probes).map(([dependency, probe]) => this.probe(dependency as Dependency, probe))).then(() => {
      this.running = undefined;
    });
    return this.running;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async probe(dependency: Dependency, probe: Probe | undefined): Promise<void> {
    if (probe === undefined) return;
    try {
      if ((await probe()) === NOT_CONFIGURED) return;
      this.opts.health.ok(dependency);
    } catch (err) {
      this.opts.health.failed(dependency, err instanceof Error ? err.message : String(err));
    }
  }
}
