import { canonicalJson } from '../core/canonical-json.js';
import { CONDITION_KEYS, type Decision } from '../core/decision-types.js';
import { formatInstant, parseInstant } from '../core/duration.js';
import type { Handoff } from '../core/handoff-types.js';
import { DECISION_API_VERSION, DECISION_KIND } from './decision-crd.js';
import type { ActorChannel, DecisionRecord, DecisionState } from './decision-record.js';

// A decision as a RollbackDecision object and back. The object is what every replica reads and
// what survives a restart; the record is what the agent works with. Sizes are bounded here: each
// evidence, note and reason is clipped, lists are capped, and the whole object stays far below
// etcd's 1 MiB (MAX_OBJECT_BYTES). No Secret value ever gets here (F3): decisions hold evidence
// built from metrics and object metadata, and notifications hold a channel and a message ts.

export const MAX_TEXT = 2000;
export const MAX_NOTES = 20;
export const MAX_LIST = 50;
/** The whole object, serialized: a few KB per condition at most, far below etcd's 1 MiB. */
export const MAX_OBJECT_BYTES = 64 * 1024;

export interface RollbackDecisionObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion?: string; labels?: Record<string, string> };
  spec: {
    deployment: { namespace: string; name: string; uid: string };
    templateHash: string;
    verdict: string;
    summary: string;
    onset?: string;
    toRevision?: number;
    deployStart?: string;
    deployCompleteAt?: string;
    firstDecidedAt: string;
    decision: Decision;
  };
  status?: {
    state?: DecisionState;
    reason?: string;
    by?: string;
    at?: string;
    via?: ActorChannel;
    lastChangedAt?: string;
    handoff?: { latest: Handoff; published: number };
    published?: string;
    notifications?: { slack?: { channel: string; ts: string }; webhook?: string[] };
  };
}

export const clip = (text: string, max = MAX_TEXT): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** The decision with every free text clipped and every list capped (`max` per text). */
export function boundDecision(d: Decision, max = MAX_TEXT): Decision {
  const conditions = Object.fromEntries(CONDITION_KEYS.map((k) => [k, { ...d.conditions[k], evidence: clip(d.conditions[k].evidence, max) }])) as Decision['conditions'];
  const list = (xs: readonly string[], n = MAX_LIST) => xs.slice(0, n).map((x) => clip(x, max));
  return {
    ...d,
    service: clip(d.service, 253),
    summary: clip(d.summary, max),
    conditions,
    notes: list(d.notes, MAX_NOTES),
    owner: { ...d.owner, route: list(d.owner.route, 10) },
    changeSet: { ...d.changeSet, reasons: list(d.changeSet.reasons), notes: list(d.changeSet.notes) },
    blastRadius: { ...d.blastRadius, sharedConfig: d.blastRadius.sharedConfig.slice(0, MAX_LIST).map((s) => ({ ...s, via: s.via.slice(0, 10) })) },
  };
}

const at = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : formatInstant(ms));

/** Drops undefined fields, so that two equal objects serialize equally (compare before writing). */
function defined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function build(r: DecisionRecord, namespace: string, decision: Decision): RollbackDecisionObject {
  return {
    apiVersion: DECISION_API_VERSION,
    kind: DECISION_KIND,
    metadata: {
      name: r.id,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'rollguard', 'rollguard.io/deployment-namespace': clip(r.namespace, 63), 'rollguard.io/deployment': clip(r.deployment, 63) },
    },
    spec: defined({
      deployment: { namespace: r.namespace, name: r.deployment, uid: r.uid },
      templateHash: r.templateHash,
      verdict: decision.verdict,
      summary: decision.summary,
      onset: at(r.onset),
      toRevision: typeof r.toRevision === 'number' ? r.toRevision : undefined,
      deployStart: at(r.deployStart),
      deployCompleteAt: at(r.deployCompleteAt),
      firstDecidedAt: formatInstant(r.firstDecidedAt),
      decision: JSON.parse(JSON.stringify(decision)) as Decision,
    }),
    status: defined({
      state: r.state,
      reason: r.stateReason === undefined ? undefined : clip(r.stateReason),
      by: r.actor?.by,
      at: at(r.actor?.at),
      via: r.actor?.via,
      lastChangedAt: formatInstant(r.lastEvaluatedAt),
      handoff: r.handoff === undefined ? undefined : (JSON.parse(JSON.stringify(r.handoff)) as { latest: Handoff; published: number }),
      published: r.published,
      notifications: r.notifications === undefined ? undefined : defined({ slack: r.notifications.slack, webhook: r.notifications.webhook?.slice(-MAX_LIST) }),
    }),
  };
}

/** The object for a record, bounded: clipped harder, then without the handoff's detail, until it fits. */
export function toObject(r: DecisionRecord, namespace: string): RollbackDecisionObject {
  for (const max of [MAX_TEXT, 500, 120]) {
    const o = build(r, namespace, boundDecision(r.decision, max));
    if (objectBytes(o) <= MAX_OBJECT_BYTES) return o;
  }
  // Still too large (a huge template diff or handoff): the page's detail goes, the decision stays.
  return build({ ...r, handoff: undefined }, namespace, boundDecision({ ...r.decision, notes: [], changeSet: { ...r.decision.changeSet, diff: undefined } }, 120));
}

export function objectBytes(o: RollbackDecisionObject): number {
  return Buffer.byteLength(JSON.stringify(o));
}

const ms = (s: string | undefined): number | undefined => parseInstant(s);

/** The record an object holds; undefined for one that is not a decision rollguard wrote. */
export function fromObject(o: RollbackDecisionObject): DecisionRecord | undefined {
  const s = o.spec as Partial<RollbackDecisionObject['spec']> | undefined;
  const first = ms(s?.firstDecidedAt);
  const decision = s?.decision;
  if (s?.deployment === undefined || decision === undefined || s.templateHash === undefined || first === undefined) return undefined;
  const st = o.status ?? {};
  const actorAt = ms(st.at);
  return {
    id: o.metadata.name,
    namespace: s.deployment.namespace,
    deployment: s.deployment.name,
    uid: s.deployment.uid,
    templateHash: s.templateHash,
    // The conditions in their printed order (the apiserver sorts a map's keys).
    decision: { ...decision, conditions: Object.fromEntries(CONDITION_KEYS.map((k) => [k, decision.conditions[k]])) as Decision['conditions'] },
    state: st.state ?? 'open',
    stateReason: st.reason,
    onset: ms(s.onset),
    toRevision: s.toRevision ?? null,
    deployStart: ms(s.deployStart),
    deployCompleteAt: ms(s.deployCompleteAt),
    firstDecidedAt: first,
    lastEvaluatedAt: ms(st.lastChangedAt) ?? first,
    handoff: st.handoff,
    actor: st.by === undefined || actorAt === undefined ? undefined : { by: st.by, at: actorAt, via: st.via ?? 'agent' },
    notifications: st.notifications,
    published: st.published,
  };
}

/** Whether writing `next` over `current` would change anything (metadata the apiserver owns aside). */
export function objectChanged(current: RollbackDecisionObject | undefined, next: RollbackDecisionObject): boolean {
  if (current === undefined) return true;
  // Canonical: the apiserver gives the decision's maps back with their keys sorted.
  return canonicalJson({ l: current.metadata.labels, s: current.spec, t: current.status }) !== canonicalJson({ l: next.metadata.labels, s: next.spec, t: next.status });
}
