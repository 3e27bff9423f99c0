// F2: rollguard never admits changes in kube-system or in its own namespace. The webhook
// configurations exclude both with a namespaceSelector on the kubernetes.io/metadata.name label, but
// that label only exists from Kubernetes 1.21 on, so the webhook also skips them itself.

export const SYSTEM_NAMESPACE = 'kube-system';

export function skippedNamespaces(ownNamespace: string): string[] {
  return [...new Set([SYSTEM_NAMESPACE, ownNamespace])];
}

/** Why a request in `namespace` is left alone, or undefined when rollguard handles it. */
export function skipReason(namespace: string | undefined, ownNamespace: string): string | undefined {
  if (namespace === undefined || !skippedNamespaces(ownNamespace).includes(namespace)) return undefined;
  return namespace === SYSTEM_NAMESPACE ? 'kube-system is never stamped or guarded (F2)' : `${namespace} is rollguard's own namespace, never stamped or guarded (F2)`;
}
