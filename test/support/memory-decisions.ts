import type { RollbackDecisionObject } from '../../src/agent/decision-object.js';
import type { DecisionBackend } from '../../src/agent/decision-store.js';
import { KubeApiError } from '../../src/kube/rest.js';

// RollbackDecision objects in a map, with the apiserver's rules that matter to the store: create
// of an existing name and a write on an old resourceVersion are 409, every write bumps it.

export class MemoryDecisions implements DecisionBackend {
  readonly objects = new Map<string, RollbackDecisionObject>();
  writes = 0;
  private rv = 0;

  private stamp(o: RollbackDecisionObject): RollbackDecisionObject {
    const copy = structuredClone(o);
    copy.metadata.resourceVersion = String(++this.rv);
    this.objects.set(copy.metadata.name, copy);
    this.writes++;
    return structuredClone(copy);
  }

  get(name: string): Promise<RollbackDecisionObject | undefined> {
    const o = this.objects.get(name);
    return Promise.resolve(o === undefined ? undefined : structuredClone(o));
  }

  create(o: RollbackDecisionObject): Promise<RollbackDecisionObject> {
    if (this.objects.has(o.metadata.name)) return Promise.reject(new KubeApiError(409, 'AlreadyExists', `${o.metadata.name} already exists`));
    return Promise.resolve(this.stamp(o));
  }

  replace(o: RollbackDecisionObject): Promise<RollbackDecisionObject> {
    const current = this.objects.get(o.metadata.name);
    if (current === undefined) return Promise.reject(new KubeApiError(404, 'NotFound', 'gone'));
    if (current.metadata.resourceVersion !== o.metadata.resourceVersion) return Promise.reject(new KubeApiError(409, 'Conflict', 'the object has been modified'));
    return Promise.resolve(this.stamp(o));
  }

  remove(name: string, resourceVersion: string | undefined): Promise<void> {
    const current = this.objects.get(name);
    if (current === undefined) return Promise.reject(new KubeApiError(404, 'NotFound', 'gone'));
    if (resourceVersion !== undefined && current.metadata.resourceVersion !== resourceVersion) return Promise.reject(new KubeApiError(409, 'Conflict', 'precondition failed'));
    this.objects.delete(name);
    return Promise.resolve();
  }

  /** Another replica's write, behind this store's back. */
  async tamper(name: string, change: (o: RollbackDecisionObject) => void): Promise<void> {
    const o = await this.get(name);
    if (o === undefined) throw new Error(`no ${name}`);
    change(o);
    this.stamp(o);
  }
}
