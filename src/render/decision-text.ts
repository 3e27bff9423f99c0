import { CONDITION_KEYS, CONDITION_LABELS, type BlastRadius, type ConditionStatus, type Decision } from '../core/decision-types.js';

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
    `  command:      ${d.command ?? '(none: no previous revision to roll back to)'}`,
    `  blast radius: ${describeBlastRadius(d.blastRadius)}`,
  ];
  if (d.notes.length > 0) lines.push('  notes:', ...d.notes.map((n) => `    ${n}`));
  return lines.join('\n');
}

/** One compact row of marks in condition order, for tables: e.g. "✓✓✗✓✓✓✓✓✓✓". */
export function conditionMarks(d: Decision): string {
  return CONDITION_KEYS.map((k) => STATUS_MARK[d.conditions[k].status]).join('');
}
