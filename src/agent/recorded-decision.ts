import { ANNOTATIONS } from '../core/annotations.js';
import { formatInstant, parseInstant } from '../core/duration.js';
import type { Deployment } from '../core/kube.js';
import { templateHash } from '../core/template-hash.js';
import type { CompactDecision } from './decision-record.js';
import { AGENT_BY } from './rollback-attribution.js';

// A decision as the Deployment itself records it (the agent's `rollguard.io/decision`), judged
// without the agent: what `rollguard decisions` lists and `rollguard apply` acts on, with the same
// rules as the page's Apply (superseded, already applied, blackout, expired).

export type RecordedState = 'open' | 'applied' | 'rolled-back' | 'superseded' | 'in-blackout' | 'expired' | 'automatic';

export interface RecordedDecision {
  namespace: string;
  deployment: string;
  decision: CompactDecision;
  state: RecordedState;
  reason: string;
  toRevision: number | undefined;
}

function parseCompact(text: string | undefined): CompactDecision | undefined {
  if (text === undefined) return undefined;
  try {
    const raw = JSON.parse(text) as Partial<CompactDecision>;
    if (typeof raw.id !== 'string' || typeof raw.verdict !== 'string' || typeof raw.since !== 'string') return undefined;
    return raw as CompactDecision;
  } catch {
    return undefined;
  }
}

/** The Deployment's current template hash: computed from its template when known, else its stamp. */
function currentTemplate(d: Deployment): string | undefined {
  return d.spec?.template === undefined ? d.metadata?.annotations?.[ANNOTATIONS.templateHash.key] : templateHash(d.spec.template);
}

export function recordedDecision(d: Deployment, now: number, ttlMs: number): RecordedDecision | undefined {
  const a = d.metadata?.annotations ?? {};
  const decision = parseCompact(a[ANNOTATIONS.decision.key]);
  if (decision === undefined) return undefined;
  // Older agents recorded the revision only inside their kubectl command.
  const parsed = /--to-revision=(\d+)/.exec(decision.command ?? '')?.[1];
  const toRevision = typeof decision.toRevision === 'number' ? decision.toRevision : parsed === undefined ? undefined : Number(parsed);
  const base = { namespace: d.metadata?.namespace ?? '', deployment: d.metadata?.name ?? '', decision, toRevision };
  const out = (state: RecordedState, reason: string): RecordedDecision => ({ ...base, state, reason });
  if (a[ANNOTATIONS.decisionId.key] === decision.id) {
    const by = a[ANNOTATIONS.rolledBackBy.key] ?? 'unknown';
    // The agent's own rollback reads as the agent calls it (rolled-back), a person's as applied.
    const state = by.startsWith(AGENT_BY) ? 'rolled-back' : 'applied';
    return out(state, `already ${state === 'applied' ? 'applied' : 'rolled back'} by ${by} at ${a[ANNOTATIONS.rolledBackAt.key] ?? 'an unrecorded time'}`);
  }
  const current = currentTemplate(d);
  if (decision.template !== undefined && current !== undefined && current !== decision.template) {
    const by = a[ANNOTATIONS.rolledBackBy.key];
    return out('superseded', `superseded: the Deployment was deployed or rolled back since${by === undefined ? '' : ` (last rollback by ${by} at ${a[ANNOTATIONS.rolledBackAt.key] ?? 'an unrecorded time'})`}`);
  }
  const until = parseInstant(a[ANNOTATIONS.blackoutUntil.key]);
  if (until !== undefined && until > now) return out('in-blackout', `inside the post-rollback blackout until ${formatInstant(until)} (R8)`);
  if (decision.verdict !== 'suggest') return out('automatic', `verdict ${decision.verdict}: rollguard acts on it itself`);
  const since = parseInstant(decision.since);
  if (since !== undefined && now - since > ttlMs) return out('expired', `expired at ${formatInstant(since + ttlMs)}`);
  return out('open', 'waiting for a human decision');
}
