import { blastRadiusOf } from './blast-radius.js';
import { classifyChangeSet, type ChangeSet } from './changeset.js';
import { rolloutUndoCommand } from './command.js';
import { judgeCleanSignal, persistedEnough } from './conditions/clean-signal.js';
import { judgeBlackout, judgeMode, judgeOwnership, judgePaused, judgeRevision } from './conditions/gates.js';
import { judgeMigration } from './conditions/migration.js';
import { judgeSameService, regressed } from './conditions/same-service.js';
import { judgeWindow } from './conditions/window.js';
import { confidenceOf } from './confidence.js';
import {
  CONDITION_KEYS,
  CONDITION_LABELS,
  type Condition,
  type ConditionKey,
  type Decision,
  type DecisionInput,
  type OwnerInfo,
  type Verdict,
} from './decision-types.js';
import { detectOwner } from './ownership.js';
import type { Regression } from './regression-types.js';
import { serviceOf } from './service.js';
import type { JobRun } from './change-events.js';
import type { Policy } from './policy.js';

// R6: the verdict. `auto` only when every condition is met; `none` when there is nothing to act on
// (no persistent regression, a blackout in force, or rollguard switched off); `suggest` otherwise.
// Pure: everything it knows comes in through DecisionInput, including the time.

/** A regression worth a human's attention: a signal that persisted long enough and had data. */
export function isActionable(regression: Regression | undefined, policy: Policy): regression is Regression {
  return regression !== undefined && regressed(regression) && persistedEnough(regression, policy);
}

/** R3: a known blocker (mixed) is unmet even when other parts are unknown; the evidence ends with how the before-state was known. */
function judgePodSpecOnly(changeSet: ChangeSet): Condition {
  const how = changeSet.beforeState === undefined ? [] : [changeSet.beforeState];
  if (changeSet.kind === 'pod-spec-only') {
    const parts = changeSet.diff ? ` (${changeSet.diff.parts.join(', ')})` : '';
    return { status: 'met', evidence: [`only the pod template changed${parts}`, ...changeSet.notes, ...how].join('; ') };
  }
  return { status: changeSet.kind === 'mixed' ? 'unmet' : 'unknown', evidence: [...changeSet.reasons, ...how].join('; ') };
}

function conditionsFor(input: DecisionInput, service: string, owner: OwnerInfo, changeSet: ChangeSet): Record<ConditionKey, Condition> {
  const { policy, deploy, regression } = input;
  const jobs = input.events.filter((e): e is JobRun => e.type === 'job-run');
  return {
    window: judgeWindow(deploy, regression, policy.onsetWindowMs, input.revisionSplit),
    sameService: judgeSameService(service, deploy.namespace, regression, input.neighbours, input.revisionSplit),
    podSpecOnly: judgePodSpecOnly(changeSet),
    migration: judgeMigration({
      deploy,
      now: input.now,
      windowMs: policy.migrationWindowMs,
      selectors: policy.migrationSelectors,
      jobs,
      jobsKnown: input.coverage.jobs,
    }),
    cleanSignal: judgeCleanSignal(regression, policy),
    ownership: judgeOwnership(owner, policy),
    revision: judgeRevision(input.revision),
    paused: judgePaused(input.current),
    blackout: judgeBlackout(input.blackoutUntil, input.now),
    mode: judgeMode(policy),
  };
}

function verdictOf(input: DecisionInput, conditions: Record<ConditionKey, Condition>): Verdict {
  if (input.policy.mode === 'off') return 'none';
  if (conditions.blackout.status !== 'met') return 'none';
  if (!isActionable(input.regression, input.policy)) return 'none';
  if ((input.doubts ?? []).length > 0) return 'suggest';
  return CONDITION_KEYS.every((k) => conditions[k].status === 'met') ? 'auto' : 'suggest';
}

const KIND_ORDER: readonly ChangeSet['kind'][] = ['pod-spec-only', 'unknown', 'mixed'];

/** The stricter of what admission saw and what is known now, with the reasons of both. */
function withAdmitted(live: ChangeSet, admitted: DecisionInput['admitted']): ChangeSet {
  if (admitted === undefined || admitted.kind === 'pod-spec-only') return live;
  const kind = KIND_ORDER.indexOf(admitted.kind) > KIND_ORDER.indexOf(live.kind) ? admitted.kind : live.kind;
  // A reason seen now and at admission is said once (the Slack summary repeated it otherwise).
  const reasons = [...new Set([...live.reasons, ...admitted.reasons.filter((r) => !live.reasons.includes(r)).map((r) => `at admission: ${r}`)])];
  return { ...live, kind, reasons };
}

function summaryOf(verdict: Verdict, input: DecisionInput, conditions: Record<ConditionKey, Condition>, command: string | undefined): string {
  const target = `${input.deploy.namespace}/${input.deploy.name}`;
  if (verdict === 'auto') return `auto: every condition holds; rolling ${target} back with: ${command ?? ''}`;
  if (verdict === 'none') {
    if (input.policy.mode === 'off') return `none: rollguard is off for namespace ${input.deploy.namespace}`;
    if (conditions.blackout.status !== 'met') return `none: ${conditions.blackout.evidence}`;
    return `none: no persistent regression to act on for ${target}`;
  }
  const failing = CONDITION_KEYS.filter((k) => conditions[k].status !== 'met');
  const first = failing[0];
  const doubt = input.doubts?.[0];
  if (first === undefined) return `suggest: a human decides because rollguard is unsure: ${doubt ?? 'no reason recorded'}`;
  const more = failing.length > 1 ? ` (and ${failing.length - 1} more condition${failing.length > 2 ? 's' : ''})` : '';
  return `suggest: a human decides because ${CONDITION_LABELS[first]} is ${conditions[first].status === 'unmet' ? 'not met' : 'unknown'}: ${conditions[first].evidence}${more}`;
}

function notesOf(input: DecisionInput, owner: OwnerInfo, service: string, plainUndo: string | undefined): string[] {
  const notes: string[] = (input.doubts ?? []).map((d) => `rollguard is unsure (F1): ${d}`);
  if (owner.route.length > 0) {
    const who = owner.kind === 'argocd' ? 'Argo CD' : owner.kind === 'flux' ? 'Flux' : 'Helm';
    notes.push(`${who}-native way back:`, ...owner.route.map((line) => `  ${line}`));
    if (plainUndo !== undefined) notes.push(`a plain ${plainUndo} is not the way back: ${who} puts it back within seconds while it reconciles`);
  }
  if (owner.kind === 'helm') notes.push(`the next helm upgrade of ${owner.name ?? 'the release'} brings the change back: helm rollback is the durable route`);
  const r = input.regression;
  if (r !== undefined && r.service !== service) notes.push(`evidence: ${r.namespace}/${r.service} regressed after the deploy of ${service}`);
  const others = input.neighbours.filter((n) => n.service !== service && regressed(n)).map((n) => n.service);
  if (others.length > 0 && r?.service === service) notes.push(`other services also regressing: ${others.join(', ')}`);
  return notes;
}

export function decide(input: DecisionInput): Decision {
  const { deploy, policy, current } = input;
  const service = serviceOf(current, policy);
  const previous = input.revision.previous;
  const undo = typeof previous === 'number' ? rolloutUndoCommand(deploy.namespace, deploy.name, previous) : undefined;
  const owner = detectOwner(current, undo ?? `kubectl rollout undo deployment/${deploy.name} -n ${deploy.namespace}`);
  const live = classifyChangeSet({
    before: deploy.before,
    after: deploy.after,
    beforeKnown: deploy.beforeKnown,
    oldTemplateSince: deploy.oldTemplateSince,
    namespace: deploy.namespace,
    deployStart: deploy.start,
    now: input.now,
    events: input.events,
    configWindowMs: policy.configWindowMs,
    coverage: input.coverage,
  });
  const changeSet = withAdmitted(live, input.admitted);
  const conditions = conditionsFor(input, service, owner, changeSet);
  const verdict = verdictOf(input, conditions);
  // R13: a human is handed the owner's way back; an automated rollback (policy gitops: auto) is the plain undo.
  const ownerRoute = undo !== undefined && verdict !== 'auto' && owner.reconciles ? owner.command : undefined;
  const command = ownerRoute ?? undo;
  return {
    namespace: deploy.namespace,
    deployment: deploy.name,
    service,
    verdict,
    conditions,
    confidence: confidenceOf(conditions, deploy, input.regression, policy.onsetWindowMs, input.now),
    command,
    owner,
    changeSet,
    blastRadius: blastRadiusOf(deploy, current, input.workloads, input.trafficShare),
    ...(input.revisionSplit === undefined ? {} : { revisionSplit: input.revisionSplit }),
    notes: notesOf(input, owner, service, ownerRoute === undefined ? undefined : undo),
    summary: summaryOf(verdict, input, conditions, command),
  };
}
