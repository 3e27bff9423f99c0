import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decide } from '../../src/core/decide.js';
import { incidentToInput } from '../../src/incident/to-decision-input.js';
import { EXAMPLES_DIR } from '../support/run-cli.js';

// `rollguard decide` with the incident file's `revisions`: the regression's counts per pod and the
// Deployment's ReplicaSets. The clean example with its onset moved into the deploy's own step
// (10:00:00 ±15s against a deploy at 10:00:05) is unknown on the onset alone.

const clean = JSON.parse(readFileSync(join(EXAMPLES_DIR, '01-clean-pod-spec-only.json'), 'utf8')) as Record<string, unknown>;
const inStep = {
  ...clean,
  deploy: { start: '2026-03-02T10:00:05Z', complete: '2026-03-02T10:04:30Z' },
  regression: { ...(clean.regression as object), onset: '2026-03-02T10:00:00Z', onsetUncertainty: '15s' },
};
const replicaSets = [
  { name: 'checkout-6c8b9f7d4', revision: 6 },
  { name: 'checkout-7d9f5c8b6', revision: 7 },
];
const counts = (errors: number, requests: number) => ({ errors, requests });

function decideWith(revisions: unknown) {
  const r = incidentToInput({ ...inStep, ...(revisions === undefined ? {} : { revisions }) });
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return decide(r.input);
}

describe('R1/R2 decide traces the errors to the revisions in the incident file', () => {
  it('without revisions the in-step onset is unknown; errors in the new ReplicaSet\'s pods make it met and auto', () => {
    expect(decideWith(undefined).conditions.window.status).toBe('unknown');
    const d = decideWith({
      since: '2026-03-02T10:00:05Z',
      replicaSets,
      pods: [
        { name: 'checkout-6c8b9f7d4-abcde', baseline: counts(90, 30_000), regression: counts(4, 2_000) },
        { name: 'checkout-7d9f5c8b6-klmno', baseline: counts(0, 0), regression: counts(240, 2_000) },
      ],
    });
    expect(d.revisionSplit?.kind).toBe('new-revision');
    expect(d.conditions.window.status).toBe('met');
    expect(d.verdict).toBe('auto');
  });

  it('errors in the old ReplicaSet\'s pods only: suggest, naming them', () => {
    const d = decideWith({
      since: '2026-03-02T10:00:05Z',
      replicaSets,
      pods: [
        { name: 'checkout-6c8b9f7d4-abcde', baseline: counts(90, 30_000), regression: counts(240, 2_000) },
        { name: 'checkout-7d9f5c8b6-klmno', baseline: counts(0, 0), regression: counts(5, 2_000) },
      ],
    });
    expect(d.verdict).toBe('suggest');
    expect(d.conditions.sameService.status).toBe('unmet');
    expect(d.conditions.sameService.evidence).toContain('checkout-6c8b9f7d4-abcde');
  });

  it('F5 malformed revisions get a precise error', () => {
    const r = incidentToInput({ ...inStep, revisions: { since: '2026-03-02T10:00:05Z', pods: [] } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('\n')).toMatch(/^revisions\.pods: /m);
  });
});
