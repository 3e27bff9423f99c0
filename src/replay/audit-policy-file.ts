import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { AUDIT_LEVELS, AUDIT_STAGES, type AuditPolicy } from '../core/audit-policy.js';
import { describeIssues } from '../core/policy.js';

// `--audit-policy FILE`: the audit.k8s.io/v1 Policy given to kube-apiserver's --audit-policy-file,
// YAML or JSON. Checked as kube-apiserver checks it (k8s.io/apiserver/pkg/audit/policy/reader.go,
// pkg/apis/audit/validation), with one difference: kube-apiserver decodes strictly first and, on
// an unknown or duplicate field, falls back to lenient decoding with a warning and ignores the
// field. A misspelt field (`namespace:` for `namespaces:`) then widens a rule without anyone
// noticing, so rollguard refuses it instead of guessing what the author meant (F5).

const list = z.array(z.string()).nullish().transform((v) => v ?? []);
const level = z.enum(AUDIT_LEVELS, { error: `expected one of ${AUDIT_LEVELS.join(', ')}` });
const stages = z
  .array(z.enum(AUDIT_STAGES, { error: `expected one of ${AUDIT_STAGES.join(', ')}` }))
  .nullish()
  .transform((v) => v ?? []);

// Group names are DNS subdomains (validation.NameIsDNSSubdomain); "" is the core group.
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const groupResources = z
  .strictObject({
    group: z
      .string()
      .nullish()
      .transform((g) => g ?? '')
      .refine((g) => g === '' || (g.length <= 253 && DNS_SUBDOMAIN.test(g)), {
        error: 'expected "" (the core group) or an API group name such as apps or batch, without a version',
      }),
    resources: list,
    resourceNames: list,
  })
  .refine((gr) => gr.resourceNames.length === 0 || gr.resources.length > 0, { error: 'using resourceNames requires at least one resource', path: ['resourceNames'] });

const nonResourceURL = z.string().refine((u) => u === '*' || (u.startsWith('/') && !u.slice(0, -1).includes('*')), {
  error: "expected \"*\" or a path beginning with '/', with '*' only as its final character",
});

const rule = z
  .strictObject({
    level,
    users: list,
    userGroups: list,
    verbs: list,
    resources: z.array(groupResources).nullish().transform((v) => v ?? []),
    namespaces: list,
    nonResourceURLs: z.array(nonResourceURL).nullish().transform((v) => v ?? []),
    omitStages: stages,
    omitManagedFields: z.boolean().nullish(),
  })
  .refine((r) => r.nonResourceURLs.length === 0 || (r.resources.length === 0 && r.namespaces.length === 0), {
    error: 'rules cannot apply to both regular resources and non-resource URLs',
    path: ['nonResourceURLs'],
  });

const policySchema = z.strictObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  rules: z.array(rule, { error: 'expected a list of rules' }).min(1, { error: 'a policy needs at least one rule (kube-apiserver refuses a policy with none)' }),
  omitStages: stages,
  omitManagedFields: z.boolean().nullish(),
});

export type AuditPolicyResult = { ok: true; policy: AuditPolicy } | { ok: false; errors: string[] };

function versionError(doc: unknown): string | undefined {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'expected an audit.k8s.io/v1 Policy object';
  const { apiVersion, kind } = doc as Record<string, unknown>;
  if (apiVersion === 'audit.k8s.io/v1beta1' || apiVersion === 'audit.k8s.io/v1alpha1') {
    return `apiVersion: ${apiVersion} is no longer read by kube-apiserver (only audit.k8s.io/v1 since Kubernetes 1.24); the Policy fields are the same: change apiVersion to audit.k8s.io/v1`;
  }
  if (apiVersion !== 'audit.k8s.io/v1') return `apiVersion: expected audit.k8s.io/v1, got ${JSON.stringify(apiVersion ?? null)}`;
  if (kind !== 'Policy') return `kind: expected Policy, got ${JSON.stringify(kind ?? null)}`;
  return undefined;
}

function unknownFieldNote(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== 'unrecognized_keys') return issue;
  const keys = issue.keys.map((k) => JSON.stringify(k)).join(', ');
  return { ...issue, message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${keys} (kube-apiserver would ignore it with a warning, so the rule would not mean what it says)` };
}

export function parseAuditPolicy(doc: unknown): AuditPolicyResult {
  const version = versionError(doc);
  if (version !== undefined) return { ok: false, errors: [version] };
  const parsed = policySchema.safeParse(doc);
  if (!parsed.success) return { ok: false, errors: describeIssues(parsed.error.issues.map(unknownFieldNote)) };
  const { rules, omitStages } = parsed.data;
  return { ok: true, policy: { omitStages, rules: rules.map(({ omitManagedFields: _omit, ...r }) => r) } };
}

export async function loadAuditPolicy(path: string): Promise<AuditPolicy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`audit policy ${path}: cannot read the file; expected the audit.k8s.io/v1 Policy given to kube-apiserver's --audit-policy-file`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text) as unknown;
  } catch (err) {
    throw new Error(`audit policy ${path}: not valid YAML or JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const result = parseAuditPolicy(doc);
  if (!result.ok) throw new Error(result.errors.map((e) => `audit policy ${path}: ${e}`).join('\n'));
  return result.policy;
}
