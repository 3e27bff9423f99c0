import type { KubernetesObject } from '@kubernetes/client-node';

// An informer's objects by namespace, then name: a namespace's objects are read without walking
// (and copying) the whole cluster's, which every evaluation does several times per Deployment.

export class NamespacedStore<T extends KubernetesObject> {
  private readonly namespaces = new Map<string, Map<string, T>>();

  get(namespace: string | undefined, name: string | undefined): T | undefined {
    return this.namespaces.get(namespace ?? '')?.get(name ?? '');
  }

  has(namespace: string | undefined, name: string | undefined): boolean {
    return this.get(namespace, name) !== undefined;
  }

  set(obj: T): void {
    const namespace = obj.metadata?.namespace ?? '';
    let names = this.namespaces.get(namespace);
    if (names === undefined) this.namespaces.set(namespace, (names = new Map<string, T>()));
    names.set(obj.metadata?.name ?? '', obj);
  }

  delete(namespace: string | undefined, name: string | undefined): void {
    const names = this.namespaces.get(namespace ?? '');
    if (names === undefined) return;
    names.delete(name ?? '');
    if (names.size === 0) this.namespaces.delete(namespace ?? '');
  }

  /** One namespace's objects, or every object when `namespace` is undefined. */
  list(namespace?: string): T[] {
    if (namespace !== undefined) return [...(this.namespaces.get(namespace)?.values() ?? [])];
    return [...this.values()];
  }

  *values(): IterableIterator<T> {
    for (const names of this.namespaces.values()) yield* names.values();
  }
}
