// Durations in policies are written the way Kubernetes and Prometheus users write them ("15m",
// "1h30m", "90s"); inside the core every duration is a number of milliseconds.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

export const MINUTE = 60_000;

/** Parses "15m", "1h30m", "90s", "500ms". Returns undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let m = PART.exec(trimmed); m !== null; m = PART.exec(trimmed)) {
    const [whole, amount, unit] = m;
    total += Number(amount) * (UNIT_MS[unit ?? ''] ?? Number.NaN);
    consumed += whole.length;
  }
  if (consumed !== trimmed.length || !Number.isFinite(total)) return undefined;
  return total;
}

/**
 * Formats milliseconds exactly, in the form policies are written: 900000 → "15m", 5400000 → "1h30m",
 * 604800000 → "7d", 61500 → "1m1.5s", 500 → "500ms". parseDuration reads every output back to the same number.
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(Math.round(ms));
  let out = '';
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  if (rest >= 1000 || (rest > 0 && out !== '')) out += `${String(rest / 1000)}s`;
  else if (rest > 0 || out === '') out += `${rest}ms`;
  return sign + out;
}

/**
 * Formats a measured duration for people, rounded to what matters: whole seconds from 10 s on
 * ("9m58s"), tenths below ("2.5s"), milliseconds under a second ("450ms").
 */
export function formatElapsed(ms: number): string {
  const abs = Math.abs(ms);
  const rounded = abs >= 10_000 ? Math.round(ms / 1000) * 1000 : abs >= 1000 ? Math.round(ms / 100) * 100 : Math.round(ms);
  return formatDuration(rounded);
}

/** Parses an RFC 3339 time (as stamped in annotations and status); undefined when absent or unreadable. */
export function parseInstant(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

export function formatInstant(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}
