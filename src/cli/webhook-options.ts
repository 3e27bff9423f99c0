import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../core/duration.js';
import { serviceAccountUsername } from '../kube/service-account.js';

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

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A namespace name (RFC 1123 label). */
export function parseDnsLabel(value: string): string {
  if (!DNS_LABEL.test(value)) throw new InvalidArgumentError(`expected a Kubernetes name of at most 63 lowercase letters, digits and "-", starting and ending alphanumeric, got "${value}"`);
  return value;
}

/** A service account name (RFC 1123 subdomain: labels joined by "."). */
export function parseDnsSubdomain(value: string): string {
  if (value.length > 253 || !value.split('.').every((label) => DNS_LABEL.test(label))) {
    throw new InvalidArgumentError(`expected a Kubernetes name of lowercase letters, digits, "-" and ".", each part starting and ending alphanumeric, got "${value}"`);
  }
  return value;
}

/** The users whose writes to rollguard-owned keys stand: --trusted-user when given, else the agent's service account. */
export function agentUsers(trustedUser: readonly string[] | undefined, namespace: string, agentServiceAccount: string): string[] {
  return trustedUser !== undefined ? [...trustedUser] : [serviceAccountUsername(namespace, agentServiceAccount)];
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

/** The review deadline: at least 10ms, below the largest timeoutSeconds the configurations allow (5 s). */
export function parseDeadline(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms < 10 || ms >= 5000) throw new InvalidArgumentError(`expected a duration from 10ms to under 5s, e.g. 500ms, got "${value}"`);
  return ms;
}

export function parseShedAbove(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0.5 || n > 1) throw new InvalidArgumentError(`expected an event-loop utilization from 0.5 to 1 (1 never sheds), e.g. 0.95, got "${value}"`);
  return n;
}
