import type { ChangeEvent, ConfigChange, ConfigCollectionDelete } from './change-events.js';
import { coverageEvidence, isCovered } from './coverage.js';
import type { Coverage } from './decision-types.js';
import { formatDuration, formatInstant } from './duration.js';
import { diffDeployment, type DeploymentDiff } from './deployment-diff.js';
import type { Deployment } from './kube.js';
import { refKey, templateRefs, type ConfigRef } from './template-refs.js';

export { diffDeployment, type DeploymentDiff } from './deployment-diff.js';

// R3: is the deploy's change set pod-spec-only, so that a rollback genuinely reverts it? Mixed
// means a rollback would leave part of the change in place; unknown means rollguard cannot tell
// (F1: never pod-spec-only).

export type ChangeSetKind = 'pod-spec-only' | 'mixed' | 'unknown';

export interface ChangeSet {
  kind: ChangeSetKind;
  /** Why it is mixed or unknown, one sentence each; empty when pod-spec-only. */
  reasons: string[];
  /** Facts that keep it reversible, e.g. a hash-suffixed ConfigMap the new template switched to. */
  notes: string[];
  diff: DeploymentDiff | undefined;
}

export interface ChangeSetInput {
  before: Deployment | undefined;
  after: Deployment | undefined;
  deployStart: number | undefined;
  now: number;
  events: readonly ChangeEvent[];
  configWindowMs: number;
  coverage: { config: Coverage };
}

interface Findings {
  mixed: string[];
  unknown: string[];
  notes: string[];
}

function describeRef(ref: ConfigRef, which: string): string {
  return `${ref.kind} ${ref.name} (read by the ${which} template via ${ref.via.join(', ')})`;
}

function judgeConfigEvent(e: ConfigChange, oldRef: ConfigRef | undefined, newRef: ConfigRef | undefined, out: Findings): void {
  const ref = oldRef ?? newRef;
  if (ref === undefined) return;
  const what = describeRef(ref, oldRef ? 'old' : 'new');
  const when = formatInstant(e.at);
  if (e.action === 'delete') {
    out.mixed.push(`${what} was deleted at ${when}; a rollback would not bring it back`);
  } else if (e.action === 'create') {
    if (oldRef !== undefined) out.mixed.push(`${what} was re-created at ${when}; the old template would read the new content`);
    else out.notes.push(`${e.kind} ${e.name} was newly created at ${when} and only the new template reads it: reversible`);
  } else if (e.content === 'changed') {
    out.mixed.push(`${what} was changed in place at ${when}; a rollback would run the old pods on the new ${e.kind === 'Secret' ? 'Secret' : 'config'}`);
  } else if (e.content === 'unknown') {
    out.unknown.push(`${what} was written at ${when} and whether its content changed is not known (no rollguard stamp)`);
  }
}

/** F1: a deletecollection that may have matched any object of its kind may have deleted one the templates read. */
function judgeCollectionDelete(e: ConfigCollectionDelete, refs: readonly [ConfigRef, string][], out: Findings): void {
  const selector = e.selector === undefined ? 'no selector' : `selector ${e.selector}`;
  for (const [ref, which] of refs) {
    if (ref.kind !== e.kind) continue;
    out.unknown.push(`${describeRef(ref, which)} may have been deleted by a deletecollection of ${e.kind}s at ${formatInstant(e.at)} (${selector}); the log does not say which objects it matched`);
  }
}

function judgeConfigEvents(input: ChangeSetInput, namespace: string, out: Findings): void {
  const why = coverageEvidence(input.coverage.config);
  if (!isCovered(input.coverage.config)) {
    out.unknown.push(`${why ?? 'not every ConfigMap/Secret change is visible (webhook down or not stamping, or an audit policy that leaves them out)'}, so config changes are not known`);
  }
  if (input.deployStart === undefined) {
    out.unknown.push('the deploy start is not known, so the config-change window cannot be placed');
    return;
  }
  const from = input.deployStart - input.configWindowMs;
  const oldRefs = new Map(templateRefs(input.before?.spec?.template).all.map((r) => [refKey(r), r]));
  const newRefs = new Map(templateRefs(input.after?.spec?.template).all.map((r) => [refKey(r), r]));
  const allRefs: [ConfigRef, string][] = [...[...oldRefs.values()].map((r): [ConfigRef, string] => [r, 'old']), ...[...newRefs.values()].filter((r) => !oldRefs.has(refKey(r))).map((r): [ConfigRef, string] => [r, 'new'])];
  for (const e of input.events) {
    if (e.type === 'config-collection-delete' && e.namespace === namespace && e.at >= from && e.at <= input.now) judgeCollectionDelete(e, allRefs, out);
    if (e.type !== 'config-change' || e.namespace !== namespace || e.at < from || e.at > input.now) continue;
    const key = refKey(e);
    judgeConfigEvent(e, oldRefs.get(key), newRefs.get(key), out);
  }
  if (out.mixed.length === 0 && out.unknown.length === 0) {
    out.notes.push(`no ConfigMap or Secret the templates read changed from ${formatDuration(input.configWindowMs)} before the deploy to now${why === undefined ? '' : `; ${why}`}`);
  }
}

function judgeDiff(diff: DeploymentDiff, out: Findings): void {
  if (!diff.templateChanged) out.mixed.push('the pod template did not change: this is not a deploy a rollback reverts');
  for (const field of diff.outsideTemplate) out.mixed.push(`${field} changed outside the pod template; a rollback does not revert it`);
}

export function classifyChangeSet(input: ChangeSetInput): ChangeSet {
  const out: Findings = { mixed: [], unknown: [], notes: [] };
  const { before, after } = input;
  if (after === undefined) {
    out.unknown.push('the Deployment as the deploy left it is not known');
    return { kind: 'unknown', reasons: out.unknown, notes: [], diff: undefined };
  }
  const diff = before === undefined ? undefined : diffDeployment(before, after);
  if (diff === undefined) out.unknown.push('the Deployment before the deploy is not known (no stamp or no request body), so what changed cannot be known exactly');
  else judgeDiff(diff, out);
  judgeConfigEvents(input, after.metadata?.namespace ?? before?.metadata?.namespace ?? '', out);
  const kind: ChangeSetKind = out.mixed.length > 0 ? 'mixed' : out.unknown.length > 0 ? 'unknown' : 'pod-spec-only';
  return { kind, reasons: [...out.mixed, ...out.unknown], notes: out.notes, diff };
}
