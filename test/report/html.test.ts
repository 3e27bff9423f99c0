import { describe, expect, it } from 'vitest';
import { CONDITION_KEYS, CONDITION_LABELS } from '../../src/core/decision-types.js';
import { escapeHtml, html, raw } from '../../src/report/escape.js';
import { renderReport } from '../../src/report/html.js';
import { reportFileName } from '../../src/report/write.js';
import { T0 } from '../support/builders.js';
import { PLANTED_MARKUP, reportInput } from './report-input.js';

const input = reportInput();
const page = renderReport(input);

describe('R10 the report puts the decision in front of a human', () => {
  it('leads with the verdict, confidence, summary and the exact command', () => {
    expect(input.decision.verdict).toBe('suggest');
    expect(page).toContain('SUGGEST — a human decides');
    expect(page).toContain(`confidence <strong>${Math.round(input.decision.confidence * 100)}%</strong>`);
    expect(page).toContain(escapeHtml(input.decision.summary));
    expect(page).toContain('kubectl rollout undo deployment/checkout -n shop --to-revision=6');
  });

  it('lists every condition with ✓/✗/? and its evidence', () => {
    for (const key of CONDITION_KEYS) {
      const c = input.decision.conditions[key];
      const icon = { met: '✓', unmet: '✗', unknown: '?' }[c.status];
      expect(page).toContain(`<td class="icon s-${c.status}" title="${c.status === 'unmet' ? 'not met' : c.status}">${icon}</td><td class="rule">${escapeHtml(CONDITION_LABELS[key])}`);
      expect(page).toContain(escapeHtml(c.evidence));
    }
    expect(input.decision.conditions.podSpecOnly.status).toBe('unmet');
  });

  it('shows the change set: images before and after, and why it is not pod-spec-only', () => {
    expect(page).toContain('<code>checkout:1.4.0</code>');
    expect(page).toContain('<code>checkout:1.5.0</code>');
    expect(page).toContain('<strong>mixed</strong>');
    for (const reason of input.decision.changeSet.reasons) expect(page).toContain(escapeHtml(reason));
  });
});

describe('R9 the graph marks threshold, onset, deploy start/complete and the verdict', () => {
  it('draws both charts with every mark, the threshold, the baseline and the R1 window', () => {
    expect(page.match(/<svg /g)).toHaveLength(2);
    for (const label of ['deploy start', 'onset', 'rollout complete', 'verdict: suggest', 'ConfigMap app-config changed', 'threshold 2%', 'baseline 0.4%', 'R1 window']) {
      expect(page).toContain(label);
    }
  });

  it('R2 names the graphed service, and says so when it is not the deployed one', () => {
    expect(page).toContain('5xx share of requests · checkout');
    const elsewhere = renderReport({ ...input, service: 'payments' });
    expect(elsewhere).toContain('5xx share of requests · payments (the regressing service, not the deployed checkout)');
    expect(elsewhere).toContain('p99 latency · payments (the regressing service, not the deployed checkout)');
  });

  it('marks what happened after the decision as later, and greys that span', () => {
    expect(page).toContain('Job db-migrate-43 started (later)');
    expect(page).toContain('after the decision (not used)');
  });

  it('draws the series where the data is: the onset step is visible as a rise in the path', () => {
    const path = /<path d="(M[^"]+)" fill="none"/.exec(page)?.[1] ?? '';
    const ys = [...path.matchAll(/[ML][\d.]+,([\d.]+)/g)].map((m) => Number(m[1]));
    expect(ys.length).toBe(input.errorRate.points.length);
    const early = Math.min(...ys.slice(0, 20));
    const late = Math.max(...ys.slice(-10));
    expect(early).toBeGreaterThan(late + 60);
  });

  it('says "no data" rather than drawing nothing when the series is empty', () => {
    const empty = renderReport({ ...input, errorRate: { points: [], threshold: 0.02 } });
    expect(empty).toContain('>no data</text>');
  });
});

describe('F3 F5 the page is self-contained and escapes every text', () => {
  it('loads nothing from anywhere: no script, no link, no external URL', () => {
    const clean = renderReport({ ...input, decision: { ...input.decision, notes: [] } });
    expect(clean).not.toMatch(/<script|<link|<iframe|<img|\bhref=|\bsrc=|url\(|@import/i);
    expect(clean.match(/https?:\/\/[^"'\s)]+/g) ?? []).toEqual(['http://www.w3.org/2000/svg', 'http://www.w3.org/2000/svg']);
  });

  it('escapes markup coming from the data', () => {
    expect(page).not.toContain(PLANTED_MARKUP);
    expect(page).toContain(escapeHtml(PLANTED_MARKUP));
    const hostile = renderReport({ ...input, marks: [{ at: T0, kind: 'other', label: '</text><script>x()</script>' }] });
    expect(hostile).not.toContain('<script>x()</script>');
  });

  it('html`` escapes interpolations and keeps raw() markup', () => {
    expect(html`<b>${'<i>&"\''}</b>${raw('<br>')}`.value).toBe('<b>&lt;i&gt;&amp;&quot;&#39;</b><br>');
  });

  it('names files by namespace, deployment and deploy start, safely', () => {
    expect(reportFileName(input, T0)).toBe('shop_checkout_2026-03-02T100000Z.html');
    expect(reportFileName({ ...input, decision: { ...input.decision, namespace: '../etc' } }, undefined)).toBe('..-etc_checkout_unknown-start.html');
  });
});
