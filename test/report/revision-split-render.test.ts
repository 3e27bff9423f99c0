import { describe, expect, it } from 'vitest';
import { decide } from '../../src/core/decide.js';
import { computeHandoff } from '../../src/core/handoff.js';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import { splitByRevision, type PodCounts, type RevisionSplit } from '../../src/core/revision-split.js';
import { decisionMessage } from '../../src/agent/slack/blocks.js';
import { renderDecisionText, shortReason } from '../../src/render/decision-text.js';
import { handoffLines } from '../../src/render/handoff-text.js';
import { renderHandoffSection } from '../../src/report/handoff-html.js';
import { renderReport } from '../../src/report/html.js';
import { T0 } from '../support/builders.js';
import { recordOf } from '../support/decision-fixtures.js';
import { BASE, DONE, handoffInput, levels, ONSET } from '../support/handoff-fixture.js';
import { reportInput } from './report-input.js';
import { cleanInput } from '../support/scenario.js';

// R9/R10: the split by revision where a human reads the signal: the decision text, the decision
// page, the Slack message and the handoff, whose causal assessment uses it.

const c = (k: number, n: number) => ({ k, n });
const pod = (name: string, baseline: { k: number; n: number }, regression: { k: number; n: number }): PodCounts => ({ pod: name, baseline, regression, appeared: 'before' });
const rs = [
  { name: 'checkout-6c8b9f7d4', revision: 6 },
  { name: 'checkout-7d9f5c8b6', revision: 7 },
];
const splitOf = (pods: PodCounts[]): RevisionSplit => {
  const s = splitByRevision({ pods, replicaSets: rs, dispersion: 1, policy: DEFAULT_POLICY, since: T0 });
  if (s === undefined) throw new Error('no split');
  return s;
};
const newOnly = splitOf([pod('checkout-6c8b9f7d4-abcde', c(15, 3000), c(2, 600)), pod('checkout-6c8b9f7d4-fghij', c(15, 3000), c(3, 600)), pod('checkout-7d9f5c8b6-klmno', c(0, 0), c(60, 500))]);
const oldOnly = splitOf([pod('checkout-6c8b9f7d4-abcde', c(15, 3000), c(50, 600)), pod('checkout-7d9f5c8b6-klmno', c(0, 0), c(2, 500))]);

describe('R10 the decision shows the 5xx share per revision', () => {
  const d = decide(cleanInput({ revisionSplit: newOnly }));

  it('the text has a line per decision with both sides and the baseline', () => {
    expect(renderDecisionText(d)).toContain(
      '  by revision:  new pods 12.0% of 500 (1 pod, revision 7) · pods that predate the deploy 0.42% of 1200 (2 pods, revision 6) · 0.50% before the deploy: the errors come from the new revision',
    );
    expect(renderDecisionText(decide(cleanInput()))).not.toContain('by revision');
  });

  it('a regression in the old pods only reads as such in tables', () => {
    expect(shortReason(decide(cleanInput({ revisionSplit: oldOnly })))).toBe('errors in the old pods');
  });

  it('the decision page has a table under the signal chart', () => {
    const page = renderReport({ ...reportInput(), decision: d });
    expect(page).toMatch(/<strong>5xx by revision<\/strong> since 2026-03-02T10:00:00Z: the errors come from the new revision/);
    expect(page).toContain('<tr><td>new pods</td><td>7</td><td>1</td><td>12.0%</td><td>500</td></tr>');
    expect(page).toContain('<tr><td>pods that predate the deploy</td><td>6</td><td>2</td><td>0.42%</td><td>1200</td></tr>');
    expect(renderReport(reportInput())).not.toContain('5xx by revision');
  });

  it('the Slack message has an "Errors by revision" section before the conditions', () => {
    const blocks = decisionMessage(recordOf(d), { buttons: false }).blocks;
    const texts = blocks.map((b) => (b.type === 'section' && b.text ? b.text.text : ''));
    const at = texts.findIndex((t) => t.startsWith('*Errors by revision*'));
    expect(at).toBeGreaterThan(0);
    expect(texts[at]).toContain('new pods 12.0% of 500');
    expect(texts.findIndex((t) => t.includes('R1 onset within window'))).toBeGreaterThan(at);
    expect(decisionMessage(recordOf(decide(cleanInput())), { buttons: false }).blocks.some((b) => b.type === 'section' && b.text?.text.startsWith('*Errors by revision*'))).toBe(false);
  });
});

describe('R9 the handoff shows the split and its causal assessment uses it', () => {
  const recovered = { now: DONE + 8 * 60_000, own: levels(ONSET, [DONE, BASE]) };
  const stuck = { now: DONE + 10 * 60_000, own: levels(ONSET) };

  it('errors confined to the rolled-back pods back a recovery at completion', () => {
    const h = computeHandoff(handoffInput({ ...recovered, revisionSplit: newOnly }));
    expect(h.assessment.kind).toBe('likely-the-rolled-back-code');
    expect(h.assessment.evidence.at(-1)).toBe("the errors were confined to the rolled-back revision (1 pod) while the older 2 pods stayed at their baseline: the rolled-back code, consistent");
    expect(h.signal.byRevision).toMatch(/^new pods 12\.0% of 500/);
    expect(handoffLines(h)).toContain(`when rolled back, by revision: ${h.signal.byRevision ?? ''}`);
    expect(renderHandoffSection(h).value).toContain('when rolled back, 5xx by revision: new pods 12.0% of 500');
  });

  it('errors that outlive the rollback, though confined to the rolled-back pods: look for what it left behind', () => {
    const h = computeHandoff(handoffInput({ ...stuck, revisionSplit: newOnly }));
    expect(h.assessment.kind).toBe('cause-elsewhere');
    expect(h.assessment.evidence.at(-1)).toMatch(/look for what it left behind/);
  });

  it('errors in the older pods too point to a shared cause; no split adds nothing', () => {
    const both = { ...newOnly, kind: 'both' as const };
    expect(computeHandoff(handoffInput({ ...stuck, revisionSplit: both })).assessment.evidence.at(-1)).toMatch(/something both revisions share/);
    const plain = computeHandoff(handoffInput(recovered));
    expect(plain.signal.byRevision).toBeUndefined();
    expect(plain.assessment.evidence.join(' ')).not.toMatch(/revision/);
  });
});
