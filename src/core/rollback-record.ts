import { ANNOTATIONS } from './annotations.js';
import { formatInstant } from './duration.js';
import type { TemplateHistoryEntry } from './template-hash.js';

// R8 for every rollback, not only the agent's: a template change that returns to one in the
// template history (a human's `kubectl rollout undo` too) is recorded on the Deployment, who, when
// and why, and starts the blackout. The agent writes its own record (with its decision) in the same
// update as its rollback; that one stands.

export interface RollbackRecordInput {
  /** The earlier admission of the new template (earlierRevision); undefined when this is no rollback. */
  returnedTo: TemplateHistoryEntry | undefined;
  /** When this change is admitted (its template-changed-at). */
  at: number;
  requester: string | undefined;
  blackoutMs: number;
  /** The request comes from a trusted writer (the agent). */
  trustedWriter: boolean;
  /** rolled-back-at as requested and as stored before. */
  requestedRolledBackAt: string | undefined;
  oldRolledBackAt: string | undefined;
}

export type RollbackRecord =
  | { type: 'none' }
  /** The agent's own record, written in this request, stands. */
  | { type: 'agent' }
  | { type: 'stamp'; stamps: Map<string, string> };

function reason(to: TemplateHistoryEntry): string {
  return to.at === undefined
    ? `the pod template returned to an earlier one (${to.hash}), admitted before rollguard recorded admission times`
    : `the pod template returned to the one admitted at ${formatInstant(to.at)} (${to.hash})`;
}

export function rollbackRecord(input: RollbackRecordInput): RollbackRecord {
  if (input.returnedTo === undefined) return { type: 'none' };
  const agentWroteOne = input.requestedRolledBackAt !== undefined && input.requestedRolledBackAt !== input.oldRolledBackAt;
  if (input.trustedWriter && agentWroteOne) return { type: 'agent' };
  return {
    type: 'stamp',
    stamps: new Map([
      [ANNOTATIONS.rolledBackAt.key, formatInstant(input.at)],
      [ANNOTATIONS.rolledBackBy.key, input.requester ?? 'unknown'],
      [ANNOTATIONS.rollbackReason.key, reason(input.returnedTo)],
      [ANNOTATIONS.blackoutUntil.key, formatInstant(input.at + input.blackoutMs)],
    ]),
  };
}
