import type { Policy } from '../core/policy.js';
import type { StampCache } from './stamp-cache.js';

export interface StampContext {
  now: number;
  namespace: string;
  /** Annotations of the object as received and of oldObject. */
  requested: ReadonlyMap<string, string>;
  old: ReadonlyMap<string, string>;
  cache: StampCache;
  policyFor: (namespace: string) => Policy;
  /** Dry-run requests change nothing outside the response. */
  dryRun: boolean;
}

export interface Stamps {
  stamps: Map<string, string>;
  templateChanged: boolean;
  /** One line for the log; never contains object data. */
  summary: string;
}
