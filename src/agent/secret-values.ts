import { isStatus, KubeApiError, type KubeRest } from '../kube/rest.js';
import type { SecretRef } from '../core/notifications-policy.js';

// The credentials the policy references (Slack bot token, signing secrets, webhook secret), read
// from Secrets in rollguard's own namespace only, kept a short while so a rotated token is picked
// up soon. These are rollguard's own credentials, not a workload's Secret (which the agent reads
// as metadata only, F3). No error message, log line or annotation ever carries a value.

export interface SecretReader {
  read(ref: SecretRef): Promise<string>;
  /** Every value currently held: what log lines and error messages are scrubbed of. */
  known(): readonly string[];
}

export class SecretReadError extends Error {
  override readonly name = 'SecretReadError';
}

interface Cached {
  value: string;
  at: number;
}

const DEFAULT_TTL_MS = 60_000;

export function describeRef(namespace: string, ref: SecretRef): string {
  return `key "${ref.key}" of Secret ${namespace}/${ref.name}`;
}

export class SecretValues implements SecretReader {
  private readonly cache = new Map<string, Cached>();
  private readonly reading = new Map<string, Promise<string>>();

  constructor(
    private readonly rest: KubeRest,
    /** rollguard's own namespace: the only one read. */
    readonly namespace: string,
    private readonly opts: { ttlMs?: number; clock?: () => number } = {},
  ) {}

  read(ref: SecretRef): Promise<string> {
    const id = `${ref.name}\n${ref.key}`;
    const now = (this.opts.clock ?? Date.now)();
    const hit = this.cache.get(id);
    if (hit !== undefined && now - hit.at < (this.opts.ttlMs ?? DEFAULT_TTL_MS)) return Promise.resolve(hit.value);
    const running = this.reading.get(id);
    if (running !== undefined) return running;
    const p = this.fetch(ref)
      .then((value) => {
        this.cache.set(id, { value, at: now });
        return value;
      })
      .finally(() => this.reading.delete(id));
    this.reading.set(id, p);
    return p;
  }

  known(): readonly string[] {
    return [...this.cache.values()].map((c) => c.value);
  }

  private async fetch(ref: SecretRef): Promise<string> {
    const what = describeRef(this.namespace, ref);
    let secret: { data?: Record<string, string> } | undefined;
    try {
      secret = await this.rest.get(`/api/v1/namespaces/${this.namespace}/secrets/${encodeURIComponent(ref.name)}`, { timeoutMs: 10_000 });
    } catch (err) {
      // A KubeApiError carries the apiserver's Status message; anything else (a body that did not
      // parse) might quote the response, so only its kind is kept.
      if (isStatus(err, 404)) throw new SecretReadError(`cannot read ${what}: the Secret does not exist in rollguard's namespace`);
      if (isStatus(err, 401, 403)) throw new SecretReadError(`cannot read ${what}: forbidden (the agent's Role needs get on secrets in its own namespace; see rollguard manifests --agent-rbac)`);
      throw new SecretReadError(`cannot read ${what}: ${err instanceof KubeApiError ? err.message : 'the response was not a Secret'}`);
    }
    const encoded = secret?.data?.[ref.key];
    if (encoded === undefined) throw new SecretReadError(`cannot read ${what}: the Secret has no such key`);
    // Trailing newlines from `echo ... | kubectl create secret --from-file` are not part of a token.
    const value = Buffer.from(encoded, 'base64').toString('utf8').trim();
    if (value === '') throw new SecretReadError(`cannot read ${what}: the value is empty`);
    return value;
  }
}

/** Replaces every known secret value (and its base64 form) in a text that is about to be logged or thrown. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 4) continue;
    out = out.split(s).join('[redacted]');
    out = out.split(Buffer.from(s).toString('base64')).join('[redacted]');
  }
  return out;
}
