import { pino } from 'pino';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DependencyHealth, type Dependency, type HealthChange } from '../../src/health/dependency-health.js';
import { Prober } from '../../src/health/prober.js';

// Failures are loud, once: a dependency that breaks is logged when it breaks and when it recovers,
// counted every time, and its gauge follows it; nothing is repeated while it stays broken.

function setup() {
  const logs: { level: number; msg: string; dependency?: string; downForMs?: number }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      logs.push(JSON.parse(chunk.toString('utf8')) as (typeof logs)[number]);
      cb();
    },
  });
  let now = Date.parse('2026-12-06T10:21:00Z');
  const gauge = new Map<Dependency, number>();
  const failures = new Map<Dependency, number>();
  const changes: HealthChange[] = [];
  const health = new DependencyHealth({
    logger: pino({ level: 'debug' }, sink),
    clock: () => now,
    metrics: { up: (d, v) => gauge.set(d, v), failed: (d) => failures.set(d, (failures.get(d) ?? 0) + 1) },
  });
  health.onChange((c) => changes.push(c));
  return { health, logs, gauge, failures, changes, advance: (ms: number) => (now += ms) };
}

describe('F1 dependency health: loud on change, quiet while it lasts', () => {
  it('logs a break once and the recovery once, counts every failure, and the gauge follows', () => {
    const t = setup();
    t.health.ok('prometheus');
    expect(t.logs).toHaveLength(0);
    expect(t.gauge.get('prometheus')).toBe(1);
    t.health.failed('prometheus', 'Prometheus unreachable at http://127.0.0.1:9: connect ECONNREFUSED');
    t.advance(30_000);
    t.health.failed('prometheus', 'Prometheus unreachable at http://127.0.0.1:9: connect ECONNREFUSED');
    t.health.failed('prometheus', 'no answer within 10000 ms');
    expect(t.failures.get('prometheus')).toBe(3);
    expect(t.gauge.get('prometheus')).toBe(0);
    expect(t.logs.filter((l) => l.level === 50)).toHaveLength(1);
    expect(t.health.describe('prometheus')).toBe('Prometheus failing since 2026-12-06T10:21:00Z: no answer within 10000 ms');
    t.advance(30_000);
    t.health.ok('prometheus');
    t.health.ok('prometheus');
    const recovered = t.logs.filter((l) => l.level === 30);
    expect(recovered).toHaveLength(1);
    expect(recovered[0]?.downForMs).toBe(60_000);
    expect(t.health.describe('prometheus')).toBeUndefined();
    expect(t.changes.map((c) => `${c.dependency}:${String(c.up)}`)).toEqual(['prometheus:false', 'prometheus:true']);
  });

  it('a first probe that fails is a break (nothing was ever up), and down() lists what is broken', () => {
    const t = setup();
    t.health.failed('slack', 'invalid_auth');
    t.health.ok('prometheus');
    expect(t.health.down().map((s) => s.dependency)).toEqual(['slack']);
    expect(t.changes).toHaveLength(1);
  });
});

describe('Prober', () => {
  it('probes every dependency at start and reports each outcome; a round in flight is joined, not doubled', async () => {
    const t = setup();
    let calls = 0;
    const prober = new Prober({
      health: t.health,
      probes: {
        prometheus: async () => {
          calls++;
          await new Promise((r) => setTimeout(r, 20));
        },
        slack: () => Promise.reject(new Error('Slack answered invalid_auth to auth.test')),
      },
      intervalMs: 60_000,
    });
    await Promise.all([prober.start(), prober.runOnce()]);
    prober.stop();
    expect(calls).toBe(1);
    expect(t.gauge.get('prometheus')).toBe(1);
    expect(t.health.describe('slack')).toMatch(/^Slack failing since .*: Slack answered invalid_auth/);
  });
});
