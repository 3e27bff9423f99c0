import type { DecisionRecord } from '../../src/agent/decision-record.js';
import { decide } from '../../src/core/decide.js';
import type { Decision } from '../../src/core/decision-types.js';
import { computeHandoff } from '../../src/core/handoff.js';
import { configChange, min, T0 } from './builders.js';
import { BASE, DONE, handoffInput, levels, ONSET } from './handoff-fixture.js';
import { cleanInput } from './scenario.js';

// Decisions and records as the agent keeps them, for the channel tests: a suggestion blocked by a
// ConfigMap changed in place (R3), and an automatic one.

export const blockedByConfig: Decision = decide(cleanInput({ events: [configChange({ name: 'app-config', at: min(-5) })] }));
export const automatic: Decision = decide(cleanInput());

export function recordOf(decision: Decision = blockedByConfig, overrides: Partial<DecisionRecord> = {}): DecisionRecord {
  return {
    id: '0123456789abcdef',
    namespace: decision.namespace,
    deployment: decision.deployment,
    uid: 'uid-1',
    templateHash: 'sha256:aa',
    decision,
    state: 'open',
    stateReason: undefined,
    onset: min(3),
    toRevision: 6,
    deployStart: T0,
    deployCompleteAt: min(5),
    firstDecidedAt: min(4),
    lastEvaluatedAt: min(6),
    ...overrides,
  };
}

/** The same decision with every evidence, note and name made huge: what the limits are for. */
export function oversized(decision: Decision = blockedByConfig, size = 5000): Decision {
  const long = (s: string): string => `${s} ${'x<&>'.repeat(size / 4)}`;
  const conditions = Object.fromEntries(Object.entries(decision.conditions).map(([k, c]) => [k, { ...c, evidence: long(c.evidence) }])) as Decision['conditions'];
  return {
    ...decision,
    summary: long(decision.summary),
    service: long(decision.service),
    conditions,
    notes: Array.from({ length: 40 }, (_v, i) => long(`note ${i}`)),
    blastRadius: { ...decision.blastRadius, sharedConfig: Array.from({ length: 200 }, (_v, i) => ({ kind: 'Deployment', name: `worker-${i}`, via: ['ConfigMap app-config'] })) },
  };
}

/** R9: rollguard rolled back on its own and the error rate recovered (a settled handoff). */
export function rolledBackWithHandoff(published = 1): DecisionRecord {
  const latest = computeHandoff(handoffInput({ now: DONE + 6 * 60_000, own: levels(ONSET, [DONE, BASE]) }));
  return recordOf(automatic, { state: 'rolled-back', stateReason: 'rolled back from revision 7 to 6 at 2026-03-02T10:08:00Z', handoff: { latest, published } });
}
