import type { Deployment } from './kube.js';
import type { Policy } from './policy.js';

/** R2: a Deployment's service identity: the policy's service label, else the Deployment's name. */
export function serviceOf(deployment: Deployment, policy: Pick<Policy, 'serviceLabel'>): string {
  return deployment.metadata?.labels?.[policy.serviceLabel] ?? deployment.metadata?.name ?? '';
}
