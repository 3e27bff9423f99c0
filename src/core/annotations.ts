// The one list of every key rollguard reads or writes under rollguard.io/ (R12). `rollguard inspect
// --keys` prints these descriptions, and a test keeps docs/reference.md#annotations equal to them.
// Keys are stable: renaming one is a breaking change.

export const PREFIX = 'rollguard.io/';

export interface AnnotationKey {
  key: string;
  on: readonly ('Deployment' | 'ConfigMap' | 'Secret' | 'Job' | 'Lease')[];
  /** `rollguard`: written only by rollguard, forged values are put back. `user`: set by people. */
  writer: 'rollguard' | 'user';
  description: string;
}

function key(name: string, on: AnnotationKey['on'], writer: AnnotationKey['writer'], description: string): AnnotationKey {
  return { key: PREFIX + name, on, writer, description };
}

export const ANNOTATIONS = {
  templateChangedAt: key('template-changed-at', ['Deployment'], 'rollguard', 'When the pod template last changed (RFC 3339), stamped at admission: deployStart.'),
  templateHash: key('template-hash', ['Deployment'], 'rollguard', 'Canonical hash of the current pod template.'),
  templateHistory: key('template-history', ['Deployment'], 'rollguard', 'Bounded JSON list of recent template hashes with their admission times; recognizes a rollback.'),
  changeSet: key('change-set', ['Deployment'], 'rollguard', 'Classification of the last template change: pod-spec-only, mixed or unknown.'),
  changeSetReasons: key('change-set-reasons', ['Deployment'], 'rollguard', 'Why the change set is not pod-spec-only (JSON list of sentences).'),
  eligibility: key('eligibility', ['Deployment'], 'rollguard', 'Rollback eligibility as known at admission: eligible or human-required.'),
  eligibilityReasons: key('eligibility-reasons', ['Deployment'], 'rollguard', 'Why a human is required (JSON list of sentences).'),
  contentChangedAt: key('content-changed-at', ['ConfigMap', 'Secret'], 'rollguard', 'When the data (data, binaryData, stringData, immutable) last changed, stamped at admission.'),
  createdAt: key('created-at', ['ConfigMap', 'Secret'], 'rollguard', 'When the object was created, stamped at admission.'),
  admittedAt: key('admitted-at', ['Job'], 'rollguard', 'When the Job was admitted.'),
  migrationDetected: key('migration-detected', ['Job'], 'rollguard', 'Whether rollguard considers this Job a schema migration: true or false.'),
  migrationReason: key('migration-reason', ['Job'], 'rollguard', 'Why the Job is (or is not) a migration.'),
  rolledBackAt: key('rolled-back-at', ['Deployment'], 'rollguard', 'When this Deployment was last rolled back: by rollguard, the apply button, or anyone returning it to a template in its history.'),
  rolledBackBy: key('rolled-back-by', ['Deployment'], 'rollguard', 'Who rolled back: rollguard-agent, the human who pressed apply, or the user whose request returned the template.'),
  rollbackReason: key('rollback-reason', ['Deployment'], 'rollguard', 'Why the rollback happened (the triggering signal).'),
  rollbackFromRevision: key('rollback-from-revision', ['Deployment'], 'rollguard', 'The revision that was rolled back.'),
  rollbackToRevision: key('rollback-to-revision', ['Deployment'], 'rollguard', 'The revision whose template was restored.'),
  rollbackPartial: key('rollback-partial', ['Deployment'], 'rollguard', 'Set to "true" when the rollback started from a partially rolled-out state.'),
  decisionId: key('decision-id', ['Deployment'], 'rollguard', 'Identifier of the decision that caused the last rollback; makes a retried rollback a no-op (F4).'),
  blackoutUntil: key('blackout-until', ['Deployment'], 'rollguard', 'End of the post-rollback blackout (RFC 3339): no re-evaluation, no second rollback before it.'),
  rolloutCompleted: key('rollout-completed', ['Deployment'], 'rollguard', 'JSON {"hash","at"}: the agent saw the rollout of the template with that hash complete at that time (deployComplete); kept so a restart does not lose it.'),
  decision: key('decision', ['Deployment'], 'rollguard', "The agent's latest decision, compact JSON (id, verdict, each condition met/unmet/unknown, confidence, command, since); written only when it changes."),
  agentUrl: key('agent-url', ['Lease'], 'rollguard', "On the agent's Lease: the base URL where the Lease holder serves HTTP (--advertise-url); a standby forwards Alertmanager's notifications there."),
  blackoutOverride: key('blackout-override', ['Deployment'], 'user', 'Set by a human (any non-empty reason) on the Deployment before a rollback, or in the rollback request, to let one rollback through the blackout guard; the next template change spends it.'),
  migration: key('migration', ['Job'], 'user', 'Label or annotation "true" marks a Job as a schema migration (R4).'),
  commit: key('commit', ['Deployment'], 'user', 'The commit the deploy was built from; shown in the handoff.'),
  pullRequest: key('pull-request', ['Deployment'], 'user', 'A link to the change (PR/MR); shown in the handoff.'),
} as const satisfies Record<string, AnnotationKey>;

export type AnnotationName = keyof typeof ANNOTATIONS;

export const ALL_ANNOTATIONS: readonly AnnotationKey[] = Object.values(ANNOTATIONS);

/** Keys that only rollguard may write: the mutating webhook carries them forward and undoes forgeries. */
export const ROLLGUARD_OWNED_KEYS: ReadonlySet<string> = new Set(
  ALL_ANNOTATIONS.filter((a) => a.writer === 'rollguard').map((a) => a.key),
);

export function isRollguardKey(key: string): boolean {
  return key.startsWith(PREFIX);
}
