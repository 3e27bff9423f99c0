import type { Policy } from '../core/policy.js';
import type { DeployRefs } from '../core/template-refs.js';
import type { StampCache } from '../stamps/stamp-cache.js';

export interface StampContext {
  now: number;
  namespace: string;
  /** Annotations of the object as received and of oldObject. */
  requested: ReadonlyMap<string, string>;
  old: ReadonlyMap<string, string>;
  cache: StampCache;
  policyFor: (namespace: string) => Policy;
  /** Who sends the request, and whether rollguard trusts them with its own keys (the agent). */
  requester: string | undefined;
  trustedWriter: boolean;
  /** Dry-run requests change nothing outside the response. */
  dryRun: boolean;
  /** A Deployment's templates' refs, when read already (MutateDeps.deployRefs). */
  deployRefs?: DeployRefs | undefined;
}

export interface Stamps {
  stamps: Map<string, string>;
  templateChanged: boolean;
  /** One line for the log; never contains object data. */
  summary: string;
}
