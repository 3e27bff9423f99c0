import { describe, expect, it } from 'vitest';
import { compactDecision, decisionAnnotation, decisionChanged, decisionId, type DecisionRecord } from '../../src/agent/decision-record.js';
import { decide } from '../../src/core/decide.js';
import { min } from '../support/builders.js';
import { cleanInput } from '../support/scenario.js';

const auto = decide(cleanInput());
const suggest = decide(cleanInput({ coverage: { config: false, jobs: true } }));

function record(id: string, decision = auto): DecisionRecord {
  return { id, namespace: 'shop', deployment: 'checkout', uid: 'u1', templateHash: 'sha256:aa', decision, state: 'open', stateReason: undefined, onset: min(3), toRevision: 6, deployStart: min(0), deployCompleteAt: min(2), firstDecidedAt: min(4), lastEvaluatedAt: min(6) };
}

describe('F4 decision ids are deterministic', () => {
  it('the same deploy, template and onset give the same id; another of any gives another', () => {
    const id = decisionId('uid-1', 'sha256:aa', min(3), 30_000);
    expect(decisionId('uid-1', 'sha256:aa', min(3), 30_000)).toBe(id);
    expect(decisionId('uid-1', 'sha256:aa', min(3) + 4_000, 30_000)).toBe(id);
    expect(decisionId('uid-2', 'sha256:aa', min(3), 30_000)).not.toBe(id);
    expect(decisionId('uid-1', 'sha256:bb', min(3), 30_000)).not.toBe(id);
    expect(decisionId('uid-1', 'sha256:aa', min(8), 30_000)).not.toBe(id);
    expect(id).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('R6 the decision written on the Deployment', () => {
  it('is compact: verdict, one letter per condition, confidence, command, since', () => {
    const c = compactDecision(record('abc', suggest));
    expect(c.verdict).toBe('suggest');
    expect(c.conditions).toMatch(/^[mu?]{10}$/);
    expect(c.conditions).toContain('?');
    expect(c.command).toBe('kubectl rollout undo deployment/checkout -n shop --to-revision=6');
    expect(c.since).toBe('2026-03-02T10:04:00Z');
    expect(decisionAnnotation(record('abc')).length).toBeLessThan(300);
  });

  it('is rewritten only when something but the time changed', () => {
    const a = decisionAnnotation(record('abc'));
    expect(decisionChanged(a, decisionAnnotation({ ...record('abc'), firstDecidedAt: min(9) }))).toBe(false);
    expect(decisionChanged(a, decisionAnnotation(record('abc', suggest)))).toBe(true);
    expect(decisionChanged(a, decisionAnnotation(record('abd')))).toBe(true);
    expect(decisionChanged(undefined, a)).toBe(true);
    expect(decisionChanged('not json', a)).toBe(true);
  });
});
