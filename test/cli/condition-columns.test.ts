import { describe, expect, it } from 'vitest';
import { decide } from '../../src/core/decide.js';
import { CONDITION_KEYS, CONDITION_LABELS, type Decision } from '../../src/core/decision-types.js';
import { CONDITION_HEADER, CONDITION_LEGEND, conditionMarks } from '../../src/render/decision-text.js';
import { runCli } from '../support/run-cli.js';
import { cleanInput } from '../support/scenario.js';

// The condition columns of the `replay` and `examples` tables are headed by the rule each checks
// (R1 … R13, in rule order), and each mark sits under its own rule.

/** The column where each rule's head starts, R6 (two conditions) twice, left to right. */
function headColumns(header: string): { rule: string; at: number }[] {
  return [...header.matchAll(/R\d+/g)].map((m) => ({ rule: m[0], at: m.index }));
}

const ruleOf = (label: string): string => label.split(' ')[0] ?? '';

describe('R6 the condition columns follow the rule numbers', () => {
  it('R6 the header lists every condition once, by rule, in rule order', () => {
    const rules = headColumns(CONDITION_HEADER).map((h) => h.rule);
    expect(rules).toEqual(['R1', 'R2', 'R3', 'R4', 'R5', 'R6', 'R6', 'R8', 'R11', 'R13']);
    expect([...rules].sort()).toEqual(CONDITION_KEYS.map((k) => ruleOf(CONDITION_LABELS[k])).sort());
    expect(CONDITION_LEGEND).toContain('R13 not reconciled by GitOps');
    expect(CONDITION_LEGEND.indexOf('R11 ')).toBeLessThan(CONDITION_LEGEND.indexOf('R13 '));
  });

  it.each(CONDITION_KEYS.map((k) => [k] as const))('R6 %s not met: its ✗ sits under its own rule, every other mark ✓', (key) => {
    const clean = decide(cleanInput());
    const d: Decision = { ...clean, conditions: { ...clean.conditions, [key]: { status: 'unmet', evidence: 'x' } } };
    const marks = conditionMarks(d);
    const heads = headColumns(CONDITION_HEADER);
    expect(marks.length).toBeLessThanOrEqual(CONDITION_HEADER.length);
    const crossed = heads.filter((h) => marks[h.at] === '✗');
    expect(crossed).toHaveLength(1);
    expect(crossed[0]?.rule).toBe(ruleOf(CONDITION_LABELS[key]));
    expect(heads.filter((h) => marks[h.at] === '✓')).toHaveLength(heads.length - 1);
  });

  it('R6 rollguard examples: the config change is ✗ under R3, the migration under R4, the Argo CD owner under R13', () => {
    const r = runCli(['examples']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const header = lines.find((l) => l.startsWith('example ')) ?? '';
    const at = (rule: string) => header.indexOf(` ${rule} `) + 1;
    const row = (name: string) => lines.find((l) => l.startsWith(name)) ?? '';
    expect(row('02-configmap-changed-in-place')[at('R3')]).toBe('✗');
    expect(row('03-migration-20-min-before')[at('R4')]).toBe('✗');
    expect(row('11-argocd-managed')[at('R13')]).toBe('✗');
    expect(row('01-clean-pod-spec-only')[at('R13')]).toBe('✓');
  });
});
