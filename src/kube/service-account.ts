import { existsSync, readFileSync } from 'node:fs';

// Who rollguard is in the cluster: the namespace it runs in and the usernames of its service
// accounts, the same for the webhook and the agent. `root` prefixes the service-account files (tests).

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
export const DEFAULT_NAMESPACE = 'rollguard';
export const DEFAULT_AGENT_SERVICE_ACCOUNT = 'rollguard-agent';

/** The username the apiserver gives a service account's requests (AdmissionRequest.userInfo.username). */
export function serviceAccountUsername(namespace: string, serviceAccount: string): string {
  return `system:serviceaccount:${namespace}:${serviceAccount}`;
}

/** A service-account token is mounted where a Pod has it, and the apiserver is named (what in-cluster configuration reads). */
export function serviceAccountMounted(root = ''): boolean {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  return host !== undefined && host !== '' && existsSync(`${root}${SERVICE_ACCOUNT_DIR}/token`);
}

/** The given namespace, else the pod's own (from its service-account mount), else DEFAULT_NAMESPACE. */
export function ownNamespace(given: string | undefined, root = ''): string {
  if (given !== undefined) return given;
  try {
    const fromPod = readFileSync(`${root}${SERVICE_ACCOUNT_DIR}/namespace`, 'utf8').trim();
    if (fromPod !== '') return fromPod;
  } catch {
    // not in a pod, or no service account mounted
  }
  return DEFAULT_NAMESPACE;
}
