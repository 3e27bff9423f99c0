import type { SecretRef } from '../../src/core/notifications-policy.js';
import { SecretReadError, type SecretReader } from '../../src/agent/secret-values.js';

// Secret values for the channel tests, keyed "name/key", without an apiserver.

export class FakeSecrets implements SecretReader {
  readonly reads: SecretRef[] = [];
  constructor(private readonly values: Record<string, string>) {}

  read(ref: SecretRef): Promise<string> {
    this.reads.push(ref);
    const v = this.values[`${ref.name}/${ref.key}`];
    return v === undefined ? Promise.reject(new SecretReadError(`cannot read key "${ref.key}" of Secret rollguard/${ref.name}: the Secret does not exist in rollguard's namespace`)) : Promise.resolve(v);
  }

  known(): readonly string[] {
    return Object.values(this.values);
  }
}
