import type { Sample } from './open-loop.js';
import { quantile } from '../stats.js';
import { count } from './table.js';

// Figures of a set of open-loop samples.

export interface Figures {
  n: number;
  failed: number;
  /** Failure reasons with their counts, most frequent first. */
  reasons: string;
  p50: number;
  p99: number;
  max: number;
}

export function figures(samples: readonly Sample[]): Figures {
  const latencies = Float64Array.from(samples, (s) => s.latencyMs);
  const byReason = new Map<string, number>();
  for (const s of samples) if (s.failure !== undefined) byReason.set(s.failure, (byReason.get(s.failure) ?? 0) + 1);
  const reasons = [...byReason].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${count(n)} ${r}`).join(', ');
  return { n: samples.length, failed: [...byReason.values()].reduce((a, b) => a + b, 0), reasons, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: quantile(latencies, 1) };
}

export const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toFixed(1));

export function describeFigures(f: Figures): string {
  return `${count(f.failed)} failed of ${count(f.n)}${f.failed > 0 ? ` (${f.reasons})` : ''}, p50 ${ms(f.p50)} / p99 ${ms(f.p99)} / max ${ms(f.max)} ms`;
}
