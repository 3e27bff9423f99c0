import { describe, expect, it } from 'vitest';
import type { DecisionRecord } from '../../src/agent/decision-record.js';
import { decisionMessage, SLACK_ACTIONS, type SlackMessage } from '../../src/agent/slack/blocks.js';
import { cut, escapeMrkdwn, fitLines } from '../../src/agent/slack/text.js';
import { blockKitProblems, buttonsOf } from '../support/block-kit.js';
import { automatic, blockedByConfig, oversized, recordOf, rolledBackWithHandoff } from '../support/decision-fixtures.js';

const PAGE = 'https://rollguard.example.com';
const LINK = `${PAGE}/decisions/0123456789abcdef`;

const allText = (m: SlackMessage): string => JSON.stringify(m.blocks);
const actionIds = (m: SlackMessage): string[] => buttonsOf(m.blocks).map((b) => String(b.action_id));

describe('R10 the Slack message of a decision', () => {
  const open = decisionMessage(recordOf(), { pageUrl: PAGE, buttons: true });

  it('says the verdict and why in one line, each condition with ✓/✗ and its evidence, the command in a code block, blast radius, confidence and the link', () => {
    expect(blockKitProblems(open.blocks)).toEqual([]);
    const [header, verdict, conditions] = open.blocks;
    expect(header).toMatchObject({ type: 'header', text: { type: 'plain_text', text: '⚠️ Rollback needs a human: shop/checkout' } });
    expect(verdict).toMatchObject({ type: 'section', text: { type: 'mrkdwn' } });
    expect(JSON.stringify(verdict)).toContain('*SUGGEST*: a human decides because R3 pod-spec-only change set is not met');
    const lines = (conditions as { text: { text: string } }).text.text.split('\n');
    expect(lines).toHaveLength(10);
    expect(lines[0]).toMatch(/^✓ \*R1 onset within window\*: /);
    expect(lines[2]).toMatch(/^✗ \*R3 pod-spec-only change set\*: ConfigMap app-config .* was changed in place at 2026-03-02T09:55:00Z/);
    const text = allText(open);
    expect(text).toContain('```kubectl rollout undo deployment/checkout -n shop --to-revision=6```');
    expect(text).toContain('*Blast radius*\\n6 replicas (6 on the new revision); 25% of the namespace');
    expect(text).toContain(`*Confidence*\\n${blockedByConfig.confidence.toFixed(2)}`);
    expect(text).toContain(`<${LINK}|0123456789abcdef>`);
    expect(open.text).toMatch(/^Rollback needs a human: shop\/checkout: a human decides because /);
  });

  it('has Apply and Dismiss buttons whose value is the decision id, and a button to the page', () => {
    const buttons = buttonsOf(open.blocks);
    expect(buttons.map((b) => [b.action_id, b.value])).toEqual([
      [SLACK_ACTIONS.apply, '0123456789abcdef'],
      [SLACK_ACTIONS.dismiss, '0123456789abcdef'],
      [SLACK_ACTIONS.open, '0123456789abcdef'],
    ]);
    expect(buttons[0]).toMatchObject({ style: 'primary', confirm: { confirm: { text: 'Roll back' } } });
    expect(buttons[2]?.url).toBe(LINK);
  });

  const states: [string, Partial<DecisionRecord>, RegExp, RegExp][] = [
    ['applied', { state: 'applied', stateReason: 'applied by alice at 2026-03-02T10:07:00Z via slack: rolled back from revision 7 to 6' }, /^↩️ Rollback applied: shop\/checkout$/, /applied by alice at 2026-03-02T10:07:00Z via slack/],
    ['dismissed', { state: 'dismissed', stateReason: 'dismissed by bob at 2026-03-02T10:08:00Z via web' }, /^ℹ️ Dismissed: /, /dismissed by bob/],
    ['expired', { state: 'expired', stateReason: 'expired at 2026-03-02T11:04:00Z (decisions stay actionable for 60 min)' }, /^ℹ️ Expired: /, /expired at 2026-03-02T11:04:00Z/],
    ['superseded', { state: 'superseded', stateReason: 'superseded by decision fedcba9876543210' }, /^ℹ️ Superseded: /, /superseded by decision fedcba9876543210/],
    ['rolled back by rollguard', { decision: automatic, state: 'rolled-back', stateReason: 'rolled back from revision 7 to 6 at 2026-03-02T10:06:00Z' }, /^↩️ Rolled back by rollguard: /, /rolled back from revision 7 to 6/],
    ['rollback failed', { state: 'rollback-failed', stateReason: 'the Deployment changed since the decision' }, /^❌ Rollback failed: /, /the Deployment changed since the decision/],
  ];
  it.each(states)('once %s: the header and a line say so, and the buttons are gone', (_name, overrides, header, reason) => {
    const m = decisionMessage(recordOf(blockedByConfig, overrides), { pageUrl: PAGE, buttons: true });
    expect(blockKitProblems(m.blocks)).toEqual([]);
    expect((m.blocks[0] as { text: { text: string } }).text.text).toMatch(header);
    expect(allText(m)).toMatch(reason);
    expect(actionIds(m)).toEqual([]);
    expect(allText(m)).toContain(LINK);
  });

  it.each([
    ['an incoming webhook (no buttons)', recordOf(), { pageUrl: PAGE, buttons: false }, []],
    ['no previous revision: nothing to apply, but it can be dismissed', recordOf({ ...blockedByConfig, command: undefined }), { pageUrl: PAGE, buttons: true }, [SLACK_ACTIONS.dismiss, SLACK_ACTIONS.open]],
    ['no page URL: no page button', recordOf(), { buttons: true }, [SLACK_ACTIONS.apply, SLACK_ACTIONS.dismiss]],
  ] as const)('buttons with %s', (_name, record, opts, ids) => {
    const m = decisionMessage(record, opts);
    expect(blockKitProblems(m.blocks)).toEqual([]);
    expect(actionIds(m)).toEqual(ids);
  });

  it('R9 after rollguard’s own rollback carries the handoff: recovery, assessment, what was rolled back, the link to the graph', () => {
    const record = rolledBackWithHandoff();
    const m = decisionMessage(record, { pageUrl: PAGE, buttons: true });
    expect(blockKitProblems(m.blocks)).toEqual([]);
    const text = allText(m);
    expect(text).toContain(`*Handoff*: error rate ${record.handoff?.latest.recovery.status ?? ''}; assessment ${record.handoff?.latest.assessment.kind ?? ''}`);
    expect(text).toContain(escapeMrkdwn(record.handoff?.latest.changeSet.summary ?? '').replace(/"/g, '\\"'));
    expect(text).toContain(`<${LINK}|The graph and the whole handoff on the decision page>`);
    expect(actionIds(m)).toEqual([]);
  });

  it('without a page URL points at the agent’s /decisions/{id}', () => {
    expect(allText(decisionMessage(recordOf(), { buttons: false }))).toContain('GET /decisions/0123456789abcdef on the agent');
  });

  it.each([
    ['open, with buttons and a page', recordOf(oversized()), { pageUrl: PAGE, buttons: true }],
    ['open, no page URL', recordOf(oversized()), { buttons: true }],
    ['applied, with a huge reason', recordOf(oversized(), { state: 'applied', stateReason: 'applied by ' + 'a'.repeat(10_000) }), { pageUrl: PAGE, buttons: true }],
    ['a very long namespace and name', recordOf(blockedByConfig, { namespace: 'n'.repeat(63), deployment: 'd'.repeat(253) }), { pageUrl: PAGE, buttons: true }],
  ] as const)('stays inside Slack’s limits with long evidence cut by “…” and a link: %s', (_name, record, opts) => {
    const m = decisionMessage(record, opts);
    expect(blockKitProblems(m.blocks)).toEqual([]);
    expect(m.blocks.length).toBeLessThanOrEqual(50);
    expect(m.text.length).toBeLessThanOrEqual(3000);
    const text = allText(m);
    if (record.decision !== blockedByConfig) {
      expect(text).toContain('…');
      expect(text).toContain(!('pageUrl' in opts) ? 'Full evidence on the decision page: GET /decisions/' : `<${LINK}|Full evidence on the decision page>`);
    }
    // Escapes are never cut in half.
    expect(text).not.toMatch(/&(a|am|amp|l|lt|g|gt)…/);
  });

  it('escapes what Slack reads as markup in evidence', () => {
    const d = { ...blockedByConfig, summary: 'a <!channel> & <https://evil|link>' };
    const text = allText(decisionMessage(recordOf(d), { buttons: false }));
    expect(text).toContain('a &lt;!channel&gt; &amp; &lt;https://evil|link&gt;');
    expect(text).not.toContain('<!channel>');
  });
});

describe('R10 Slack text helpers', () => {
  it.each([
    ['short stays', 'abc', 5, 'abc'],
    ['exact stays', 'abcde', 5, 'abcde'],
    ['long gets …', 'abcdefgh', 5, 'abcd…'],
    ['an escape is not split', 'ab&amp;cd', 5, 'ab…'],
    ['a surrogate pair is not split', 'ab😀cd', 4, 'ab…'],
  ])('cut: %s', (_name, text, max, expected) => {
    expect(cut(text, max)).toBe(expected);
    expect(cut(text, max).length).toBeLessThanOrEqual(max);
  });

  it.each([
    ['fits: unchanged', [['a: ', 'xx'], ['b: ', 'yy']], 20, ['a: xx', 'b: yy'], false],
    ['the long line is cut, the short one stays whole', [['a: ', 'x'.repeat(50)], ['b: ', 'yy']], 20, ['a: xxxxxxxxxx…', 'b: yy'], true],
    ['two long lines share the room', [['a: ', 'x'.repeat(50)], ['b: ', 'y'.repeat(50)]], 21, ['a: xxxxxx…', 'b: yyyyyy…'], true],
  ] as const)('fitLines: %s', (_name, lines, max, expected, wasCut) => {
    const r = fitLines(lines.map(([prefix, text]) => ({ prefix, text })), max);
    expect(r.lines).toEqual(expected);
    expect(r.cut).toBe(wasCut);
    expect(r.lines.join('\n').length).toBeLessThanOrEqual(max);
  });

  it('escapes &, < and >', () => {
    expect(escapeMrkdwn('a<b>&c')).toBe('a&lt;b&gt;&amp;c');
  });
});
