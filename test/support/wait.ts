import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Appended to the timeout error, e.g. the tail of a process log or the last object seen. */
  detail?: () => string;
}

/**
 * Polls `probe` until it returns something other than undefined/false and returns that. Throws
 * after `timeoutMs` naming what it waited for, the probe's last error and `detail()`.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, opts: WaitOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await sleep(intervalMs);
  }
  const parts = [`timed out after ${(timeoutMs / 1000).toFixed(1)} s waiting for ${what}`];
  if (lastError !== undefined) parts.push(`last error: ${lastError instanceof Error ? lastError.message : inspect(lastError)}`);
  const detail = opts.detail?.();
  if (detail !== undefined && detail !== '') parts.push(detail);
  throw new Error(parts.join('\n'));
}
