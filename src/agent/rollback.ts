import { isNotLeading } from './fenced-rest.js';
import { ANNOTATIONS } from '../core/annotations.js';
import { formatInstant } from '../core/duration.js';
import type { Deployment, ReplicaSet } from '../core/kube.js';
import { planRollback } from '../core/rollback-plan.js';
import { isStatus, paths, type Impersonation, type KubeRest } from '../kube/rest.js';

// R7: perform the planned rollback as one conditional JSON patch, and say exactly what happened.
// The patch carries rollguard's record (who, why, when, revisions, partial, decision id, blackout
// end), so the rollback and its record are one write: there is no state in which one exists
// without the other.

export type RollbackOutcome =
  | { result: 'rolled-back'; deployment: Deployment; fromRevision: number | undefined; toRevision: number; partial: boolean; recordKept: boolean }
  | { result: 'already-done'; message: string }
  | { result: 'refused'; message: string }
  | { result: 'stale'; message: string }
  | { result: 'denied'; message: string }
  | { result: 'failed'; message: string }
  /** The agent's write was not sent: its Lease was not surely held any more (fenced-rest.ts). */
  | { result: 'not-leader'; message: string };

export interface RollbackRequest {
  rest: KubeRest;
  deployment: Deployment;
  replicaSets: readonly ReplicaSet[];
  decisionId: string;
  toRevision: number;
  /** Who is recorded in rolled-back-by: the agent, or the human the request impersonates. */
  by: string;
  reason: string;
  blackoutMs: number;
  now: number;
  impersonate?: Impersonation;
  /** More rollguard annotations written in the same patch (the decision). */
  extra?: Record<string, string>;
}

export function rollbackRecord(req: Pick<RollbackRequest, 'by' | 'reason' | 'decisionId' | 'now' | 'blackoutMs'>, from: number | undefined, to: number, partial: boolean): Record<string, string> {
  return {
    [ANNOTATIONS.rolledBackAt.key]: formatInstant(req.now),
    [ANNOTATIONS.rolledBackBy.key]: req.by,
    [ANNOTATIONS.rollbackReason.key]: req.reason,
    [ANNOTATIONS.rollbackFromRevision.key]: from === undefined ? 'unknown' : String(from),
    [ANNOTATIONS.rollbackToRevision.key]: String(to),
    [ANNOTATIONS.rollbackPartial.key]: partial ? 'true' : 'false',
    [ANNOTATIONS.decisionId.key]: req.decisionId,
    [ANNOTATIONS.blackoutUntil.key]: formatInstant(req.now + req.blackoutMs),
  };
}

export async function performRollback(req: RollbackRequest): Promise<RollbackOutcome> {
  const { deployment } = req;
  if (deployment.metadata?.annotations?.[ANNOTATIONS.decisionId.key] === req.decisionId) {
    return { result: 'already-done', message: `decision ${req.decisionId} was already carried out (recorded on the Deployment)` };
  }
  const probe = planRollback({ deployment, replicaSets: req.replicaSets, toRevision: req.toRevision, record: {} });
  if (!probe.ok) return { result: 'refused', message: probe.message };
  const plan = planRollback({
    deployment,
    replicaSets: req.replicaSets,
    toRevision: req.toRevision,
    record: { ...req.extra, ...rollbackRecord(req, probe.fromRevision, probe.toRevision, probe.partial) },
  });
  if (!plan.ok) return { result: 'refused', message: plan.message };
  const ns = deployment.metadata?.namespace ?? '';
  const name = deployment.metadata?.name ?? '';
  try {
    const updated = await req.rest.patch<Deployment>(paths.deployment(ns, name), 'json', plan.ops, { impersonate: req.impersonate });
    const recordKept = updated.metadata?.annotations?.[ANNOTATIONS.decisionId.key] === req.decisionId;
    return { result: 'rolled-back', deployment: updated, fromRevision: plan.fromRevision, toRevision: plan.toRevision, partial: plan.partial, recordKept };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // A failed `test` op (422) or a conflict (409): the Deployment changed since the decision.
    if (isStatus(err, 409, 422)) return { result: 'stale', message: `the Deployment changed after the decision; nothing was rolled back (${message})` };
    if (isStatus(err, 403) && /rollguard blackout/.test(message)) return { result: 'denied', message };
    if (isNotLeading(err)) return { result: 'not-leader', message };
    return { result: 'failed', message };
  }
}
