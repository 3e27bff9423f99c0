import type { Handoff } from '../core/handoff-types.js';
import { pct } from '../core/handoff-recovery.js';

// The handoff in a few lines, for an Event message or a chat notification: status and assessment
// first, then what was rolled back, the numbers, and the evidence that decided the assessment.

export function handoffLines(h: Handoff): string[] {
  const r = h.recovery;
  const s = h.signal;
  const now = r.recent === undefined ? 'no data since the rollback' : `${pct(r.recent.share)} over the last ${r.recent.steps} steps`;
  const before = [s.baseline === undefined ? undefined : `baseline ${pct(s.baseline)}`, `threshold ${pct(s.threshold)}`, s.triggering === undefined ? undefined : `${pct(s.triggering)} when rolled back`];
  return [
    `rollguard handoff for ${h.namespace}/${h.deployment}: error rate ${r.status}; assessment ${h.assessment.kind}${h.settled ? ' (settled)' : ''}`,
    h.changeSet.summary,
    `5xx share ${now} (${before.filter((x) => x !== undefined).join(', ')})`,
    ...(s.byRevision === undefined ? [] : [`when rolled back, by revision: ${s.byRevision}`]),
    ...h.assessment.evidence.slice(0, 2),
    ...h.notes,
  ];
}
