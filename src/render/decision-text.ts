import { NO_MATCH } from '../core/metric-match.js';
import { splitSummary } from '../core/revision-split.js';
import { CONDITION_KEYS, CONDITION_LABELS, type BlastRadius, type ConditionKey, type ConditionStatus, type Decision } from '../core/decision-types.js';

// The human-readable form of a decision: one ✓ / ✗ / ? line per condition, then the command, the
// blast radius and the notes. Shared by `decide`, `examples` and `replay`.

export const STATUS_MARK: Record<ConditionStatus, string> = { met: '✓', unmet: '✗', unknown: '?' };

export function describeBlastRadius(b: BlastRadius): string {
  const parts: string[] = [];
  if (b.replicas !== undefined) parts.push(`${b.replicas} replicas${b.updatedReplicas !== undefined ? ` (${b.updatedReplicas} on the new revision)` : ''}`);
  if (b.trafficShare !== undefined) parts.push(`${(b.trafficShare * 100).toFixed(0)}% of the namespace's requests`);
  if (b.partial) parts.push('rollout not finished: the rollback starts from a mixed state');
  parts.push(
    b.sharedConfig.length === 0
      ? 'no other workload reads its ConfigMaps/Secrets'
      : `config a rollback does not revert is also read by ${b.sharedConfig.map((s) => `${s.kind} ${s.name} (${s.via.join(', ')})`).join('; ')}`,
  );
  return parts.join('; ');
}

export function renderDecisionText(d: Decision): string {
  const width = Math.max(...CONDITION_KEYS.map((k) => CONDITION_LABELS[k].length));
  const lines = [
    `${d.namespace}/${d.deployment} (service ${d.service}): ${d.verdict.toUpperCase()}, confidence ${d.confidence.toFixed(2)}`,
    `  ${d.summary}`,
    ...CONDITION_KEYS.map((k) => {
      const c = d.conditions[k];
      return `  ${STATUS_MARK[c.status]} ${CONDITION_LABELS[k].padEnd(width)}  ${c.evidence}`;
    }),
    ...(d.revisionSplit === undefined ? [] : [`  by revision:  ${splitSummary(d.revisionSplit)}`]),
    `  command:      ${d.command ?? '(none: no previous revision to roll back to)'}`,
    `  blast radius: ${describeBlastRadius(d.blastRadius)}`,
  ];
  if (d.notes.length > 0) lines.push('  notes:', ...d.notes.map((n) => `    ${n}`));
  return lines.join('\n');
}

/** The rule a condition checks, from its label ("R13 not reconciled by GitOps" → "R13"). */
const ruleOf = (k: ConditionKey): string => /^R\d+/.exec(CONDITION_LABELS[k])?.[0] ?? '';

/** The conditions in the order of their rules (R1 … R13), as tables print them under CONDITION_HEADER. */
export const TABLE_CONDITIONS: readonly ConditionKey[] = [...CONDITION_KEYS].sort((a, b) => Number(ruleOf(a).slice(1)) - Number(ruleOf(b).slice(1)));

/** The header over conditionMarks: each column headed by its rule ("R1 R2 … R13"). */
export const CONDITION_HEADER = TABLE_CONDITIONS.map(ruleOf).join(' ');

/** One row of marks under CONDITION_HEADER, each under its rule: e.g. "✓  ✓  ✗  ✓ …". */
export function conditionMarks(d: Decision): string {
  return TABLE_CONDITIONS.map((k) => STATUS_MARK[d.conditions[k].status].padEnd(ruleOf(k).length)).join(' ');
}

/** The legend printed under a table of conditionMarks. */
export const CONDITION_LEGEND = `conditions: ${TABLE_CONDITIONS.map((k) => CONDITION_LABELS[k]).join(', ')}  (✓ met, ✗ not met, ? unknown)`;

const SHORT_REASON: Record<ConditionKey, { unmet: string; unknown: string }> = {
  window: { unmet: 'onset outside the window', unknown: 'onset vs window unclear' },
  sameService: { unmet: 'not the deployed service', unknown: 'which service is unclear' },
  podSpecOnly: { unmet: 'config changed too', unknown: 'change set unknown' },
  migration: { unmet: 'migration nearby', unknown: 'migrations unknown' },
  cleanSignal: { unmet: 'not a clean 5xx signal', unknown: 'signal unclear' },
  ownership: { unmet: 'owned by GitOps', unknown: 'owner unknown' },
  revision: { unmet: 'no previous revision', unknown: 'revisions unknown' },
  paused: { unmet: 'Deployment paused', unknown: 'pause unknown' },
  blackout: { unmet: 'in blackout', unknown: 'blackout unknown' },
  mode: { unmet: 'policy mode', unknown: 'policy mode unknown' },
};

/** Width of the "why" column: the longest short reason. */
export const WHY_WIDTH = 24;

/** A few words for a table's "why" column: what decided the verdict. */
export function shortReason(d: Decision): string {
  if (d.verdict === 'auto') return 'every condition met';
  if (d.verdict === 'none') {
    if (d.conditions.mode.status !== 'met' && d.summary.includes('is off')) return 'rollguard is off';
    if (d.conditions.blackout.status !== 'met') return 'in blackout';
    // R5: metrics that matched nothing are not "no regression"; the summary says which selector.
    if (d.conditions.cleanSignal.evidence.startsWith(NO_MATCH)) return 'metrics matched nothing';
    return 'no regression to act on';
  }
  const first = CONDITION_KEYS.find((k) => d.conditions[k].status !== 'met');
  if (first === undefined) return 'a human decides';
  const condition = d.conditions[first];
  if (first === 'window' && condition.status === 'unmet') return condition.evidence.includes('predates') ? 'began before the deploy' : 'began after the window';
  if (first === 'sameService' && d.revisionSplit?.kind === 'old-revision') return 'errors in the old pods';
  return SHORT_REASON[first][condition.status === 'unmet' ? 'unmet' : 'unknown'];
}
