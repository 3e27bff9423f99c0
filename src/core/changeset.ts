import type { ChangeEvent, ConfigChange, ConfigCollectionDelete } from './change-events.js';
import { coverageEvidence, isCovered } from './coverage.js';
import type { Coverage } from './decision-types.js';
import { formatDuration, formatInstant } from './duration.js';
import { diffDeployment, type DeploymentDiff } from './deployment-diff.js';
import type { Deployment } from './kube.js';
import { deployRefs, refKey, type ConfigRef, type DeployRefs, type TemplateRefs } from './template-refs.js';
import { describeBeforeState, patchedDiff, type BeforeState } from './before-state.js';

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
  /** How the Deployment before the deploy was known, one sentence, when the producer said. */
  beforeState?: string | undefined;
}

export interface ChangeSetInput {
  before: Deployment | undefined;
  after: Deployment | undefined;
  deployStart: number | undefined;
  now: number;
  events: readonly ChangeEvent[];
  configWindowMs: number;
  coverage: { config: Coverage };
  /** How `before` is known; undefined when `before` speaks for itself (the agent's stamps). */
  beforeKnown?: BeforeState | undefined;
  /** The deploy's namespace; without it, the objects' own. */
  namespace?: string | undefined;
  /**
   * When the old template began running (its admission, or the Deployment's creation): none of its
   * pods is older. Undefined when not known, or when it came back by a rollback (its pods may predate it).
   */
  oldTemplateSince?: number | undefined;
  /** The refs of `before`'s and `after`'s templates, when the caller has read them already. */
  refs?: DeployRefs | undefined;
}

interface Findings {
  mixed: string[];
  unknown: string[];
  notes: string[];
}

/** The refs of each template; undefined where that template's refs are not known. */
interface KnownRefs {
  old: Map<string, ConfigRef> | undefined;
  new: Map<string, ConfigRef> | undefined;
  /** Why the old template's refs are not known, when they are not. */
  oldUnknownWhy: string;
  /** ChangeSetInput.oldTemplateSince. */
  oldSince: number | undefined;
}

const BEFORE_UNKNOWN = 'the Deployment before the deploy is not known (no stamp or no request body), so what changed cannot be known exactly';

function describeRef(ref: ConfigRef, which: string): string {
  return `${ref.kind} ${ref.name} (read by the ${which} template via ${ref.via.join(', ')})`;
}

/**
 * A create of an object the old template reads. Created before the old template began running, it
 * is all its pods ever read, whatever came before it: a rollback runs them on the config they ran
 * with. Created later, the old pods ran on an earlier object of that name or without one: a
 * re-creation. When the old template began is not known, neither is which (F1).
 */
function judgeOldRefCreate(e: ConfigChange, what: string, since: number | undefined, out: Findings): void {
  const when = formatInstant(e.at);
  if (since === undefined) {
    out.unknown.push(`${what} was created at ${when}, and whether the old template's pods read an earlier one is not known (when the old template began running is not known)`);
  } else if (e.at <= since) {
    out.notes.push(`${e.kind} ${e.name} was created at ${when}, before the old template began running (${formatInstant(since)}): its pods have only read this content`);
  } else {
    out.mixed.push(`${what} was re-created at ${when}, after the old template began running (${formatInstant(since)}): its pods ran on an earlier one or without it, and a rollback would run them on the new content`);
  }
}

function judgeConfigEvent(e: ConfigChange, refs: KnownRefs, out: Findings): void {
  const key = refKey(e);
  const oldRef = refs.old?.get(key);
  const newRef = refs.new?.get(key);
  const ref = oldRef ?? newRef;
  const when = formatInstant(e.at);
  if (ref === undefined) {
    // Not read by any known template; a template whose refs are not known may read it (F1).
    if (refs.old !== undefined && refs.new !== undefined) return;
    if (e.action === 'update' && e.content === 'unchanged') return;
    const which = refs.old === undefined ? `the old template's refs are not known (${refs.oldUnknownWhy})` : 'the new template is not known';
    out.unknown.push(`${e.kind} ${e.name} was ${e.action === 'delete' ? 'deleted' : e.action === 'create' ? 'created' : 'written'} at ${when} and may be read by a template: ${which}`);
    return;
  }
  const what = describeRef(ref, oldRef ? 'old' : 'new');
  if (e.action === 'delete') {
    out.mixed.push(`${what} was deleted at ${when}; a rollback would not bring it back`);
  } else if (e.action === 'create') {
    if (oldRef !== undefined) judgeOldRefCreate(e, what, refs.oldSince, out);
    else if (refs.old === undefined) out.unknown.push(`${what} was created at ${when}, and whether the old template read it too is not known (${refs.oldUnknownWhy})`);
    else out.notes.push(`${e.kind} ${e.name} was newly created at ${when} and only the new template reads it: reversible`);
  } else if (e.content === 'changed') {
    out.mixed.push(`${what} was changed in place at ${when}; a rollback would run the old pods on the new ${e.kind === 'Secret' ? 'Secret' : 'config'}`);
  } else if (e.content === 'unknown') {
    out.unknown.push(`${what} was written at ${when} and whether its content changed is not known (no rollguard stamp)`);
  }
}

/**
 * Deletes of an object the old template reads that a create of the same name followed before the
 * old template began running: its pods never saw the deleted object (the create's note says so).
 */
function replacedBeforeOldTemplate(events: readonly ChangeEvent[], refs: KnownRefs): Set<ChangeEvent> {
  const since = refs.oldSince;
  const out = new Set<ChangeEvent>();
  if (since === undefined) return out;
  const creates = events.filter((e): e is ConfigChange => e.type === 'config-change' && e.action === 'create' && e.at <= since);
  for (const e of events) {
    if (e.type !== 'config-change' || e.action !== 'delete' || refs.old?.has(refKey(e)) !== true) continue;
    if (creates.some((c) => refKey(c) === refKey(e) && c.at >= e.at)) out.add(e);
  }
  return out;
}

/** F1: a deletecollection that may have matched any object of its kind may have deleted one a template reads. */
function judgeCollectionDelete(e: ConfigCollectionDelete, refs: KnownRefs, out: Findings): void {
  const selector = e.selector === undefined ? 'no selector' : `selector ${e.selector}`;
  const sweep = `a deletecollection of ${e.kind}s at ${formatInstant(e.at)} (${selector}); the log does not say which objects it matched`;
  if (refs.old === undefined || refs.new === undefined) {
    const which = refs.old === undefined ? `the old template's refs are not known (${refs.oldUnknownWhy})` : 'the new template is not known';
    out.unknown.push(`a ${e.kind} a template reads may have been deleted by ${sweep}: ${which}`);
    return;
  }
  const seen = new Set<string>();
  for (const [map, which] of [[refs.old, 'old'], [refs.new, 'new']] as const) {
    for (const ref of map.values()) {
      if (ref.kind !== e.kind || seen.has(refKey(ref))) continue;
      seen.add(refKey(ref));
      out.unknown.push(`${describeRef(ref, which)} may have been deleted by ${sweep}`);
    }
  }
}

function judgeConfigEvents(input: ChangeSetInput, namespace: string, refs: KnownRefs, out: Findings): void {
  const why = coverageEvidence(input.coverage.config);
  if (!isCovered(input.coverage.config)) {
    out.unknown.push(`${why ?? 'not every ConfigMap/Secret change is visible (webhook down or not stamping, or an audit policy that leaves them out)'}, so config changes are not known`);
  }
  if (input.deployStart === undefined) {
    out.unknown.push('the deploy start is not known, so the config-change window cannot be placed');
    return;
  }
  const from = input.deployStart - input.configWindowMs;
  const inWindow = input.events.filter((e) => e.type !== 'job-run' && e.namespace === namespace && e.at >= from && e.at <= input.now);
  const unseen = replacedBeforeOldTemplate(inWindow, refs);
  for (const e of inWindow) {
    if (e.type === 'config-collection-delete') judgeCollectionDelete(e, refs, out);
    if (e.type === 'config-change' && !unseen.has(e)) judgeConfigEvent(e, refs, out);
  }
  if (out.mixed.length === 0 && out.unknown.length === 0) {
    const which = refs.old === undefined ? 'in the namespace (the old template\'s refs are not known, so every one counts)' : 'the templates read';
    out.notes.push(`no ConfigMap or Secret ${which} changed from ${formatDuration(input.configWindowMs)} before the deploy to now${why === undefined ? '' : `; ${why}`}`);
  }
}

function judgeDiff(diff: DeploymentDiff, out: Findings): void {
  if (!diff.templateChanged) out.mixed.push('the pod template did not change: this is not a deploy a rollback reverts');
  for (const field of diff.outsideTemplate) out.mixed.push(`${field} changed outside the pod template; a rollback does not revert it`);
}

function refMap(refs: TemplateRefs): Map<string, ConfigRef> {
  return new Map(refs.all.map((r) => [refKey(r), r]));
}

/** What changed against the known before-state, and the refs each template is known to read. */
function judgeChange(input: ChangeSetInput, out: Findings): { diff: DeploymentDiff | undefined; refs: Omit<KnownRefs, 'oldSince'> } {
  const { before, after } = input;
  const derived = before === undefined && input.beforeKnown?.how === 'patch' ? input.beforeKnown : undefined;
  const read = input.refs ?? deployRefs(before?.spec?.template, after?.spec?.template);
  const newRefs = after === undefined ? undefined : refMap(read.after);
  if (after === undefined) out.unknown.push('the Deployment as the deploy left it is not known');
  if (before !== undefined) {
    const diff = after === undefined ? undefined : diffDeployment(before, after, read);
    if (diff !== undefined) judgeDiff(diff, out);
    return { diff, refs: { old: refMap(read.before), new: newRefs, oldUnknownWhy: '' } };
  }
  if (derived === undefined || after === undefined) {
    if (after !== undefined) out.unknown.push(BEFORE_UNKNOWN);
    return { diff: undefined, refs: { old: undefined, new: newRefs, oldUnknownWhy: 'the Deployment before the deploy is not known' } };
  }
  const patched = patchedDiff(after, derived.touched);
  judgeDiff(patched.diff, out);
  out.unknown.push(...patched.unknown);
  // Untouched ref-deciding fields are unchanged, so the old template read what the new one reads.
  const hidden = patched.refsHidden;
  const oldRefs = hidden.length === 0 ? newRefs : undefined;
  return { diff: patched.diff, refs: { old: oldRefs, new: newRefs, oldUnknownWhy: `the patch wrote ${hidden.slice(0, 3).join(', ')}${hidden.length > 3 ? ', ...' : ''}` } };
}

export function classifyChangeSet(input: ChangeSetInput): ChangeSet {
  const out: Findings = { mixed: [], unknown: [], notes: [] };
  const judged = judgeChange(input, out);
  const { diff } = judged;
  const refs: KnownRefs = { old: judged.refs.old, new: judged.refs.new, oldUnknownWhy: judged.refs.oldUnknownWhy, oldSince: input.oldTemplateSince };
  const beforeState = input.beforeKnown === undefined ? undefined : describeBeforeState(input.beforeKnown);
  // A known blocker (a config the known template reads changed in place or deleted) is stated even
  // when the rest is unknown; with no template's refs known there is nothing to judge.
  if (refs.old !== undefined || refs.new !== undefined) {
    judgeConfigEvents(input, input.namespace ?? input.after?.metadata?.namespace ?? input.before?.metadata?.namespace ?? '', refs, out);
  }
  const kind: ChangeSetKind = out.mixed.length > 0 ? 'mixed' : out.unknown.length > 0 ? 'unknown' : 'pod-spec-only';
  // Written whole, not spread: in the webhook's server, V8 added a spread's extra fields on its
  // slow path, new hidden classes included (perf of the review path).
  const changeSet: ChangeSet = { kind, reasons: [...out.mixed, ...out.unknown], notes: out.notes, diff };
  if (beforeState !== undefined) changeSet.beforeState = beforeState;
  return changeSet;
}
