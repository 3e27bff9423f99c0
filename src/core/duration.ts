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

const DAY_MS = 86_400_000;
/** 10000-01-01T00:00:00Z: from here on toISOString writes a six-digit, signed year. */
const YEAR_10000_MS = 253_402_300_800_000;

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * RFC 3339 in UTC, as stamped in annotations: "2026-03-02T09:00:00Z", milliseconds only when
 * there are any ("2026-03-02T09:00:00.250Z"). The webhook formats several instants per review, so
 * the years 1970–9999 are written by arithmetic (days to a civil date, Hinnant's algorithm) instead
 * of through a Date; the output is toISOString's, which writes every other instant.
 */
export function formatInstant(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= YEAR_10000_MS) return new Date(ms).toISOString().replace('.000Z', 'Z');
  const days = Math.floor(ms / DAY_MS);
  const inDay = ms - days * DAY_MS;
  // Days since 0000-03-01 in 400-year eras, so that a leap day ends its year.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const milli = inDay % 1000;
  const seconds = (inDay - milli) / 1000;
  const time = `${pad(Math.floor(seconds / 3600), 2)}:${pad(Math.floor(seconds / 60) % 60, 2)}:${pad(seconds % 60, 2)}`;
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${time}${milli === 0 ? '' : `.${pad(milli, 3)}`}Z`;
}
