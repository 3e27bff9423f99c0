import { describe, expect, it } from 'vitest';
import { computeHandoff } from '../../src/core/handoff.js';
import type { Handoff } from '../../src/core/handoff-types.js';
import { detectOwner } from '../../src/core/ownership.js';
import { escapeHtml } from '../../src/report/escape.js';
import { renderHandoffSection } from '../../src/report/handoff-html.js';
import { renderReport } from '../../src/report/html.js';
import { handoffLines } from '../../src/render/handoff-text.js';
import { deployment } from '../support/builders.js';
import { BASE, DONE, handoffInput, levels, ONSET } from '../support/handoff-fixture.js';
import { reportInput } from './report-input.js';

const recovered = computeHandoff(handoffInput({ now: DONE + 6 * 60_000, own: levels(ONSET, [DONE, BASE]) }));
const stuck = computeHandoff(handoffInput({ now: DONE + 10 * 60_000, own: levels(ONSET), others: [['payments', levels(ONSET)]] }));
const section = (h: Handoff): string => renderHandoffSection(h).value;

describe('R9 the handoff section', () => {
  it('draws the signal with threshold, baseline, onset, deploy and rollback marked', () => {
    const html = section(recovered);
    expect(html.match(/<svg /g)).toHaveLength(1);
    for (const label of ['deploy start', 'rollout complete', 'onset', '>rollback<', 'rollback complete', 'back in band', 'threshold 2%', 'baseline 0.2%']) expect(html).toContain(label);
    // The rollback is drawn in its own colour and its completion dashed, like the deploy's.
    expect(html).toMatch(/stroke="#047857" stroke-width="1.5" stroke-dasharray="5 4"/);
    // Drawn after the fact: no span is greyed out as "after the decision".
    expect(html).not.toContain('after the decision (not used)');
  });

  it.each([
    ['recovered, likely the rolled-back code, settled', recovered, 'recovered', 'likely-the-rolled-back-code', 'error rate: recovered', 'cause: likely the rolled-back code', 'settled: no longer watched'],
    ['still high, cause elsewhere', stuck, 'not-recovering', 'cause-elsewhere', 'error rate: not recovering', 'cause: the cause is elsewhere', 'settled: no longer watched'],
  ] as const)('%s', (_label, h, status, kind, statusText, causeText, settledText) => {
    const html = section(h);
    expect(html).toContain(`data-status="${status}" data-assessment="${kind}"`);
    expect(html).toContain(statusText);
    expect(html).toContain(causeText);
    expect(html).toContain(settledText);
    for (const e of h.assessment.evidence) expect(html).toContain(escapeHtml(e));
  });

  it('says what was rolled back: revisions, images before and after, commit, PR link and change-cause', () => {
    const html = section(recovered);
    expect(html).toContain('<code>shop/checkout:1</code></td><td><code>shop/checkout:2</code>');
    expect(html).toContain('commit <code>3f2a9c1</code>');
    expect(html).toContain('<a href="https://git.example/shop/pull/42" rel="noreferrer">');
    expect(html).toContain('release 2');
    expect(html).toContain('revision 1');
  });

  it('lists the other services that regressed', () => {
    expect(section(stuck)).toContain('<td><code>payments</code></td><td>0.2% → 20%</td><td>not yet</td><td>no</td>');
    expect(section(recovered)).toContain('no other service of the namespace was regressing at the rollback');
  });

  it('R13 carries the Helm note', () => {
    const helm = deployment({ labels: { 'app.kubernetes.io/managed-by': 'Helm' }, annotations: { 'meta.helm.sh/release-name': 'shop' } });
    const h = computeHandoff(handoffInput({ now: DONE + 6 * 60_000, own: levels(ONSET, [DONE, BASE]), owner: detectOwner(helm, '') }));
    expect(section(h)).toContain('the next helm upgrade brings the change back; helm rollback shop -n shop is the durable route');
  });

  it('escapes what annotations hold and links only http(s)', () => {
    const h = computeHandoff(
      handoffInput({
        now: DONE + 6 * 60_000,
        own: levels(ONSET, [DONE, BASE]),
        rolledBack: { revision: 2, template: deployment({ image: 'x:2' }).spec?.template, annotations: { 'rollguard.io/pull-request': 'javascript:alert(1)', 'rollguard.io/commit': '<img src=x onerror=alert(1)>' } },
      }),
    );
    const html = section(h);
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain('href="javascript:');
  });

  it('fits in the report page as an extra section', () => {
    const page = renderReport(reportInput(), { end: renderHandoffSection(recovered) });
    expect(page).toContain('<section class="handoff" id="handoff"');
    expect(page.indexOf('id="handoff"')).toBeLessThan(page.indexOf('<footer>'));
  });
});

describe('R9 the handoff in a few lines (the RollbackHandoff Event)', () => {
  it('leads with the status and the assessment, then what was rolled back and the numbers', () => {
    const lines = handoffLines(recovered);
    expect(lines[0]).toBe('rollguard handoff for shop/checkout: error rate recovered; assessment likely-the-rolled-back-code (settled)');
    expect(lines[1]).toBe(recovered.changeSet.summary);
    expect(lines[2]).toBe('5xx share 0.20% over the last 5 steps (baseline 0.20%, threshold 2.0%, 20.0% when rolled back)');
    expect(lines).toContain(recovered.assessment.evidence[0]);
    expect(lines.join('\n').length).toBeLessThan(1000);
  });
});
