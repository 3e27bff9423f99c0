import type { PolicyObject } from '../core/policy-objects.js';

/** The policy objects a process sees (from its CrdPolicySource); none when it reads a file. */
export interface PolicyObjectsView {
  objects(): { cluster: readonly PolicyObject[]; namespaced: readonly PolicyObject[] };
}
