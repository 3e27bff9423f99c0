import type { Logger } from 'pino';
import { policyPaths } from '../policy/policy-crds.js';
import { objectKey, refText, type PolicyObject } from '../core/policy-objects.js';
import type { DesiredStatus, Resolution } from '../core/policy-resolution.js';
import { sameStatus, statusFor } from '../core/policy-status.js';
import { isStatus, type KubeRest } from '../kube/rest.js';
import { isNotLeading } from './fenced-rest.js';

// The leader's half of the policy CRDs: every policy object's status says whether it is accepted
// and which spec applies. One write per object at a time, and none when nothing changed; the
// status subresource replaced whole (a merge patch would keep keys of an older appliedSpec).

export class PolicyStatusWriter {
  private readonly inFlight = new Set<string>();
  private readonly queued = new Map<string, { object: PolicyObject; desired: DesiredStatus }>();
  private forbiddenLogged = false;

  constructor(private readonly opts: { rest: KubeRest; logger: Logger; clock: () => number }) {}

  sync(resolution: Resolution): void {
    for (const [key, { object, status }] of resolution.statuses) this.write(key, object, status);
  }

  private write(key: string, object: PolicyObject, desired: DesiredStatus): void {
    const next = statusFor(desired, object.status, this.opts.clock());
    if (sameStatus(next, object.status)) return;
    if (this.inFlight.has(key)) {
      this.queued.set(key, { object, desired });
      return;
    }
    this.inFlight.add(key);
    const path = policyPaths.status(object.kind, object.namespace, object.name);
    void this.opts.rest
      .patch(path, 'json', [{ op: 'add', path: '/status', value: next }])
      .then(() => {
        this.opts.logger.debug({ policy: refText(object), generation: object.generation, reason: desired.reason }, 'policy status written');
      })
      .catch((err: unknown) => {
        if (isStatus(err, 404)) return;
        // The Lease lapsed: the next leader writes the status at its own resync.
        if (isNotLeading(err)) {
          this.opts.logger.debug({ policy: refText(object) }, 'policy status not written: this replica no longer surely leads');
          return;
        }
        if (isStatus(err, 403) && !this.forbiddenLogged) {
          this.forbiddenLogged = true;
          this.opts.logger.error({ policy: refText(object), error: (err as Error).message }, 'may not write policy status: the agent needs patch on rollbackpolicies/status and clusterrollbackpolicies/status (rollguard manifests --agent-rbac)');
          return;
        }
        this.opts.logger.warn({ policy: refText(object), error: err instanceof Error ? err.message : String(err) }, 'could not write policy status; retried on the next change or resync');
      })
      .finally(() => {
        this.inFlight.delete(key);
        const again = this.queued.get(key);
        this.queued.delete(key);
        if (again !== undefined) this.write(objectKey(again.object), again.object, again.desired);
      });
  }
}
