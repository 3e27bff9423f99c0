import type { PolicyExplanation } from '../core/policy-provenance.js';

// The policy section of `rollguard inspect`: which policy governs, then each main field, its value
// and the level it came from.

export function renderPolicyExplanation(e: PolicyExplanation): string {
  const lines = [`  policy: ${e.governedBy}`];
  const field = Math.max(0, ...e.fields.map((f) => f.field.length));
  const value = Math.max(0, ...e.fields.map((f) => f.value.length));
  for (const f of e.fields) lines.push(`    ${f.field.padEnd(field)}  ${f.value.padEnd(value)}  from ${f.from}`);
  for (const note of e.notes) lines.push(`    note: ${note}`);
  return lines.join('\n');
}
