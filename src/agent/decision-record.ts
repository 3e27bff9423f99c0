import { createHash } from 'node:crypto';
import { CONDITION_KEYS, type Decision, type Verdict } from '../core/decision-types.js';
import { formatInstant } from '../core/duration.js';
import type { Handoff } from '../core/handoff-types.js';
import { decisionV1, type DecisionV1 } from './webhook-payload.js';

// A decision as the agent keeps, shows and records it: a deterministic id (the same deploy, the
// same template and the same onset give the same id on every replica and after every restart, so a
// repeated decision is recognized, F4), its state, and the compact form written on the Deployment.

/**
 * `rolled-back`: by rollguard itself; `applied`: a person pressed Apply (or ran `rollguard apply`);
 * `dismissed`: a person decided against it; `expired`: nobody decided within the policy's TTL.
 */
export type DecisionState = 'open' | 'rolled-back' | 'applied' | 'dismissed' | 'expired' | 'rollback-failed' | 'superseded' | 'closed';

export interface DecisionRecord {
  id: string;
  namespace: string;
  deployment: string;
  uid: string;
  templateHash: string;
  decision: Decision;
  state: DecisionState;
  /** Why the state is what it is (the rollback's outcome, what superseded it). */
  stateReason: string | undefined;
  onset: number | undefined;
  /** The revision a rollback restores (the command's --to-revision); null when none is left. */
  toRevision: number | null | undefined;
  /** deployStart and deployComplete as the decision knew them, for the page's graph. */
  deployStart: number | undefined;
  deployCompleteAt: number | undefined;
  firstDecidedAt: number;
  lastEvaluatedAt: number;
  /** R9: after rollguard's own rollback, the handoff as last computed; `published` counts its deliveries to the sinks. */
  handoff?: { latest: Handoff; published: number } | undefined;
  /** Who took it out of `open` (a person, or the agent), when, and through which channel. */
  actor?: DecisionActor | undefined;
  /** What the Lease holder sent for it: the Slack message (edited, never posted twice), webhook events. */
  notifications?: DecisionNotifications | undefined;
  /** The last change published (decision-publisher.ts): a new leader neither repeats nor skips one. */
  published?: string | undefined;
}

export type ActorChannel = 'web' | 'slack' | 'cli' | 'agent';

export interface DecisionActor {
  by: string;
  at: number;
  via: ActorChannel;
}

export interface DecisionNotifications {
  slack?: { channel: string; ts: string } | undefined;
  webhook?: string[] | undefined;
}

/** Onsets are rounded to the step so that re-estimating the same onset gives the same id. */
export function decisionId(uid: string, templateHash: string, onset: number | undefined, stepMs: number): string {
  const bucket = onset === undefined ? 'none' : String(Math.round(onset / stepMs));
  return createHash('sha256').update(`${uid}\n${templateHash}\n${bucket}`).digest('hex').slice(0, 16);
}

const STATUS_LETTER = { met: 'm', unmet: 'u', unknown: '?' } as const;

export interface CompactDecision {
  id: string;
  verdict: Verdict;
  /** One letter per condition in CONDITION_KEYS order: m met, u unmet, ? unknown. */
  conditions: string;
  confidence: number;
  command: string | null;
  since: string;
  /** The template hash the decision is about: a later deploy makes it stale (absent from older agents' records). */
  template?: string;
  /** The revision Apply restores: the command of a GitOps-owned Deployment is its owner's, which names none (absent from older agents' records). */
  toRevision?: number;
}

export function compactDecision(record: DecisionRecord): CompactDecision {
  const d = record.decision;
  return {
    id: record.id,
    verdict: d.verdict,
    conditions: CONDITION_KEYS.map((k) => STATUS_LETTER[d.conditions[k].status]).join(''),
    confidence: Math.round(d.confidence * 100) / 100,
    command: d.command ?? null,
    since: formatInstant(record.firstDecidedAt),
    template: record.templateHash,
    ...(typeof record.toRevision === 'number' ? { toRevision: record.toRevision } : {}),
  };
}

/** The annotation value; equal values mean nothing worth a write has changed. */
export function decisionAnnotation(record: DecisionRecord): string {
  return JSON.stringify(compactDecision(record));
}

/** Whether two annotation values differ in anything but `since` (so a re-decided same state is not rewritten). */
export function decisionChanged(previous: string | undefined, next: string): boolean {
  if (previous === undefined) return true;
  try {
    const a = JSON.parse(previous) as Partial<CompactDecision>;
    const b = JSON.parse(next) as CompactDecision;
    return a.id !== b.id || a.verdict !== b.verdict || a.conditions !== b.conditions || a.confidence !== b.confidence || a.command !== b.command || a.template !== b.template || a.toRevision !== b.toRevision;
  } catch {
    return true;
  }
}

/** The JSON /decisions serves: schema v1, the same as the webhook's `decision` and `rollguard decisions -o json`. */
export function decisionJson(record: DecisionRecord, pageUrl?: string): DecisionV1 {
  return decisionV1(record, pageUrl);
}
