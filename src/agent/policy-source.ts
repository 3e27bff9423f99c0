import { unwatchFile, watchFile } from 'node:fs';
import type { Logger } from 'pino';
import { DEFAULT_POLICY_SET, loadPolicySet, resolver, type PolicySet } from '../policy/policy-file.js';
import type { Policy } from '../core/policy.js';

// Where the agent's policies come from: built-in defaults, a file (`--policy`, re-read when it
// changes) or the policy CRDs (crd-policy-source.ts). An invalid new version is reported and the
// last valid one keeps applying: a typo never makes rollguard more permissive (F1), nor stops it.

export interface PolicySource {
  policyFor(namespace: string): Policy;
  /** Where the policies come from, for logs and /readyz. */
  describe(): string;
  /**
   * The agent's Lease changed hands: only the leader writes (the policy CRDs' status), and each
   * write only while `surely()` says the Lease is still surely held when it is sent (F4).
   */
  leading?(isLeader: boolean, surely: () => boolean): void;
  stop(): void;
}

export class StaticPolicySource implements PolicySource {
  private readonly resolve: (namespace: string) => Policy;
  constructor(set: PolicySet = DEFAULT_POLICY_SET) {
    this.resolve = resolver(set);
  }
  policyFor(namespace: string): Policy {
    return this.resolve(namespace);
  }
  describe(): string {
    return 'built-in defaults';
  }
  stop(): void {
    // nothing to release
  }
}

export class FilePolicySource implements PolicySource {
  private resolve: (namespace: string) => Policy;
  private lastError: string | undefined;
  /** The reload in progress: reloads run one at a time, so an earlier read never lands after a later one. */
  private reloading: Promise<void> = Promise.resolve();
  private readonly onChange = (): void => void this.reload();

  private constructor(
    private readonly path: string,
    set: PolicySet,
    private readonly logger: Logger,
    private readonly onError: (message: string) => void,
    private readonly read: (path: string) => Promise<PolicySet>,
  ) {
    this.resolve = resolver(set);
  }

  /** Fails when the file is missing or invalid at start: the agent refuses to start on a bad policy. */
  static async open(path: string, logger: Logger, opts: { intervalMs?: number; onError?: (message: string) => void; read?: (path: string) => Promise<PolicySet> } = {}): Promise<FilePolicySource> {
    const read = opts.read ?? ((file: string) => loadPolicySet(file, { refuseEmpty: true }));
    const source = new FilePolicySource(path, await loadPolicySet(path), logger, opts.onError ?? (() => undefined), read);
    watchFile(path, { interval: opts.intervalMs ?? 2000 }, source.onChange);
    return source;
  }

  /** Reads the file again once any reload in progress is done; resolves when this one is applied. */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(() => this.load());
    return this.reloading;
  }

  private async load(): Promise<void> {
    try {
      this.resolve = resolver(await this.read(this.path));
      this.lastError = undefined;
      this.logger.info({ policy: this.path }, 'policy reloaded');
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
      this.logger.error({ policy: this.path, error: this.lastError }, 'the changed policy is invalid; the last valid one keeps applying');
      this.onError(this.lastError);
    }
  }

  policyFor(namespace: string): Policy {
    return this.resolve(namespace);
  }

  describe(): string {
    return this.lastError === undefined ? `file ${this.path}` : `file ${this.path} (its current content is invalid; the last valid version applies)`;
  }

  stop(): void {
    unwatchFile(this.path, this.onChange);
  }
}
