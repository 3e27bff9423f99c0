import { InvalidArgumentError } from 'commander';

// Option parsers shared by the webhook-related verbs; each error says what was expected.

export function parseNameList(value: string): string[] {
  const names = value.split(',').map((n) => n.trim()).filter((n) => n !== '');
  if (names.length === 0) throw new InvalidArgumentError('expected one or more names separated by commas, e.g. rollguard-webhook.rollguard.svc');
  return names;
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a whole number ≥ 1, got "${value}"`);
  return n;
}

export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port number 0-65535, got "${value}"`);
  return n;
}

/** Runs a verb's action; a failure prints "rollguard VERB: message" and exits 2 instead of a stack trace. */
export function withCleanErrors<A extends unknown[]>(verb: string, action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await action(...args);
    } catch (err) {
      process.stderr.write(`rollguard ${verb}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(2);
    }
  };
}
