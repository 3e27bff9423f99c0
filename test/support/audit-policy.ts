import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { AuditPolicy } from '../../src/core/audit-policy.js';
import { parseAuditPolicy } from '../../src/replay/audit-policy-file.js';

/** An audit.k8s.io/v1 Policy from its rules written as YAML (the header is added). */
export function auditPolicy(rules: string, header = ''): AuditPolicy {
  const result = parseAuditPolicy(parseYaml(`apiVersion: audit.k8s.io/v1\nkind: Policy\n${header}rules:\n${rules}`));
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.policy;
}

export function auditPolicyFixture(name: string): AuditPolicy {
  const result = parseAuditPolicy(parseYaml(readFileSync(new URL(`../fixtures/audit-policy/${name}`, import.meta.url), 'utf8')));
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.policy;
}
