import { describe, expect, it } from 'vitest';
import { recordedDecision } from '../../src/agent/recorded-decision.js';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import { formatInstant } from '../../src/core/duration.js';
import { templateHash } from '../../src/core/template-hash.js';
import { deployment, min } from '../support/builders.js';

const HOUR = 60 * 60_000;

function withDecision(extra: Record<string, string> = {}, verdict = 'suggest', template?: string) {
  const d = deployment({ image: 'shop/checkout:2' });
  const hash = template ?? templateHash(d.spec?.template);
  const decision = { id: 'abc123', verdict, conditions: 'mmummmmmmm', confidence: 0.4, command: 'kubectl rollout undo deployment/checkout -n shop --to-revision=4', since: formatInstant(min(0)), template: hash };
  d.metadata = { ...d.metadata, annotations: { [ANNOTATIONS.decision.key]: JSON.stringify(decision), ...extra } };
  return d;
}

describe('R10 a decision as the Deployment records it', () => {
  it('is open while nothing happened since, with the revision from its command', () => {
    const r = recordedDecision(withDecision(), min(5), HOUR);
    expect(r).toMatchObject({ state: 'open', namespace: 'shop', deployment: 'checkout', toRevision: 4 });
  });

  it('R13 of a GitOps-owned Deployment, whose command is the owner\'s: the revision from the record itself', () => {
    const d = withDecision();
    const decision: Record<string, unknown> = { ...(JSON.parse(d.metadata?.annotations?.[ANNOTATIONS.decision.key] ?? '{}') as Record<string, unknown>), command: 'argocd app set shop --sync-policy none && argocd app rollback shop', toRevision: 4 };
    d.metadata = { ...d.metadata, annotations: { [ANNOTATIONS.decision.key]: JSON.stringify(decision) } };
    expect(recordedDecision(d, min(5), HOUR)).toMatchObject({ state: 'open', toRevision: 4 });
    delete decision.toRevision;
    d.metadata.annotations = { [ANNOTATIONS.decision.key]: JSON.stringify(decision) };
    expect(recordedDecision(d, min(5), HOUR)?.toRevision).toBeUndefined();
  });

  it.each([
    ['applied', { [ANNOTATIONS.decisionId.key]: 'abc123', [ANNOTATIONS.rolledBackBy.key]: 'alice', [ANNOTATIONS.rolledBackAt.key]: '2026-03-02T10:03:00Z' }, 'suggest', undefined, /already applied by alice at 2026-03-02T10:03:00Z/],
    ['rolled-back', { [ANNOTATIONS.decisionId.key]: 'abc123', [ANNOTATIONS.rolledBackBy.key]: 'rollguard-agent (agent-0)', [ANNOTATIONS.rolledBackAt.key]: '2026-03-02T10:03:00Z' }, 'auto', undefined, /already rolled back by rollguard-agent \(agent-0\) at 2026-03-02T10:03:00Z/],
    ['superseded', {}, 'suggest', 'sha256:another', /superseded/],
    ['in-blackout', { [ANNOTATIONS.blackoutUntil.key]: formatInstant(min(9)) }, 'suggest', undefined, /blackout until 2026-03-02T10:09:00Z/],
    ['automatic', {}, 'auto', undefined, /rollguard acts on it itself/],
  ] as const)('%s', (state, extra, verdict, template, reason) => {
    const r = recordedDecision(withDecision(extra, verdict, template), min(5), HOUR);
    expect(r?.state).toBe(state);
    expect(r?.reason).toMatch(reason);
  });

  it('expires after the TTL', () => {
    expect(recordedDecision(withDecision(), min(61), HOUR)?.state).toBe('expired');
    expect(recordedDecision(withDecision(), min(59), HOUR)?.state).toBe('open');
  });

  it('a missing or unreadable annotation is no decision', () => {
    expect(recordedDecision(deployment(), min(1), HOUR)).toBeUndefined();
    const d = deployment();
    d.metadata = { ...d.metadata, annotations: { [ANNOTATIONS.decision.key]: 'nope' } };
    expect(recordedDecision(d, min(1), HOUR)).toBeUndefined();
  });
});
