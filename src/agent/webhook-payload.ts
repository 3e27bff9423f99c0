import { CONDITION_KEYS, CONDITION_LABELS, type ConditionStatus, type Verdict } from '../core/decision-types.js';
import { formatInstant } from '../core/duration.js';
import type { Handoff, RevisionFacts } from '../core/handoff-types.js';
import type { DecisionRecord } from './decision-record.js';
import { decisionUrl } from './decision-status.js';
import type { DecisionChange } from './sinks.js';

// The generic webhook's body, schema rollguard.io/decision/v1 (documented in docs/reference.md#decision-schema). Written
// field by field, not from the internal record, so the contract stays put when the agent's own
// types change: a field is added in a compatible way or the schema gets a new version.

export const DECISION_SCHEMA_V1 = 'rollguard.io/decision/v1';

export interface DecisionPayloadV1 {
  schema: typeof DECISION_SCHEMA_V1;
  /** What happened: opened, changed, rolled-back, rollback-failed, applied, dismissed, expired, superseded, handoff. */
  event: DecisionChange;
  /** Unique per payload, the same on every retry of it: receivers deduplicate on it. */
  delivery: string;
  sentAt: string;
  decision: {
    id: string;
    url: string | null;
    namespace: string;
    deployment: string;
    service: string;
    state: string;
    stateReason: string | null;
    verdict: Verdict;
    summary: string;
    confidence: number;
    command: string | null;
    conditions: { key: string; label: string; status: ConditionStatus; evidence: string }[];
    blastRadius: {
      replicas: number | null;
      updatedReplicas: number | null;
      partial: boolean;
      trafficShare: number | null;
      sharedConfig: { kind: string; name: string; via: string[] }[];
    };
    owner: { kind: string; name: string | null; namespace: string | null; reconciles: boolean; route: string[] };
    changeSet: { kind: string; reasons: string[]; notes: string[] };
    notes: string[];
    onset: string | null;
    firstDecidedAt: string;
    lastEvaluatedAt: string;
    /** R9, after rollguard's own rollback; null otherwise. */
    handoff: HandoffV1 | null;
    /** The revision a rollback restores (the command's --to-revision); null when none is left. */
    toRevision: number | null;
    /** Who took the decision out of `open`, when, and through which channel (web, slack, cli, agent); null while open. */
    actedBy: { by: string; at: string; via: string } | null;
  };
}

/** One decision in schema v1: the webhook's `decision`, GET /decisions and `rollguard decisions -o json` alike. */
export type DecisionV1 = DecisionPayloadV1['decision'];

type RevisionV1 = { revision: number | null; commit: string | null; pullRequest: string | null; changeCause: string | null };

export interface HandoffV1 {
  at: string;
  settled: boolean;
  recovery: { status: string; evidence: string[] };
  assessment: { kind: string; evidence: string[] };
  changeSet: { summary: string; rolledBack: RevisionV1; restored: RevisionV1; images: { container: string; before: string | null; after: string | null }[] };
  notes: string[];
}

function revisionV1(r: RevisionFacts): RevisionV1 {
  return { revision: r.revision ?? null, commit: r.commit ?? null, pullRequest: r.pullRequest ?? null, changeCause: r.changeCause ?? null };
}

function handoffV1(h: Handoff): HandoffV1 {
  return {
    at: formatInstant(h.at),
    settled: h.settled,
    recovery: { status: h.recovery.status, evidence: [...h.recovery.evidence] },
    assessment: { kind: h.assessment.kind, evidence: [...h.assessment.evidence] },
    changeSet: {
      summary: h.changeSet.summary,
      rolledBack: revisionV1(h.changeSet.rolledBack),
      restored: revisionV1(h.changeSet.restored),
      images: h.changeSet.images.map((i) => ({ container: i.container, before: i.before ?? null, after: i.after ?? null })),
    },
    notes: [...h.notes],
  };
}

export function decisionPayload(record: DecisionRecord, event: DecisionChange, opts: { delivery: string; now: number; pageUrl: string | undefined }): DecisionPayloadV1 {
  return { schema: DECISION_SCHEMA_V1, event, delivery: opts.delivery, sentAt: formatInstant(opts.now), decision: decisionV1(record, opts.pageUrl) };
}

export function decisionV1(record: DecisionRecord, pageUrl: string | undefined): DecisionV1 {
  const d = record.decision;
  const b = d.blastRadius;
  return {
    id: record.id,
    url: decisionUrl(pageUrl, record.id) ?? null,
    namespace: record.namespace,
    deployment: record.deployment,
    service: d.service,
    state: record.state,
    stateReason: record.stateReason ?? null,
    verdict: d.verdict,
    summary: d.summary,
    confidence: d.confidence,
    command: d.command ?? null,
    conditions: CONDITION_KEYS.map((key) => ({ key, label: CONDITION_LABELS[key], status: d.conditions[key].status, evidence: d.conditions[key].evidence })),
    blastRadius: {
      replicas: b.replicas ?? null,
      updatedReplicas: b.updatedReplicas ?? null,
      partial: b.partial,
      trafficShare: b.trafficShare ?? null,
      sharedConfig: b.sharedConfig.map((s) => ({ kind: s.kind, name: s.name, via: [...s.via] })),
    },
    owner: { kind: d.owner.kind, name: d.owner.name ?? null, namespace: d.owner.namespace ?? null, reconciles: d.owner.reconciles, route: [...d.owner.route] },
    changeSet: { kind: d.changeSet.kind, reasons: [...d.changeSet.reasons], notes: [...d.changeSet.notes] },
    notes: [...d.notes],
    onset: record.onset === undefined ? null : formatInstant(record.onset),
    firstDecidedAt: formatInstant(record.firstDecidedAt),
    lastEvaluatedAt: formatInstant(record.lastEvaluatedAt),
    handoff: record.handoff === undefined ? null : handoffV1(record.handoff.latest),
    toRevision: typeof record.toRevision === 'number' ? record.toRevision : null,
    actedBy: record.actor === undefined ? null : { by: record.actor.by, at: formatInstant(record.actor.at), via: record.actor.via },
  };
}
