import { AUDIT_LEVELS, auditOutcomes, type AuditOutcome, type AuditPolicy, type AuditPolicyLevel } from './audit-policy.js';
import type { DecisionInput } from './decision-types.js';

// Which of the changes rollguard reasons about the cluster's audit policy lets into the log, per
// namespace: every write to Deployments (and their status), ConfigMaps and Secrets, Jobs (and their
// status), by any user. A write some request can make without it being logged at ResponseComplete
// is a change replay cannot see, so the area is not covered (F1), and the evidence names the rule.

export type CoverageArea = 'deployments' | 'config' | 'jobs';

interface Target {
  group: string;
  resource: string;
  kind: string;
  subresources: readonly string[];
  /** The level a fix should log it at. */
  fixLevel: AuditPolicyLevel;
}

const TARGETS: Record<string, Target> = {
  deployments: { group: 'apps', resource: 'deployments', kind: 'Deployment', subresources: ['status'], fixLevel: 'RequestResponse' },
  configmaps: { group: '', resource: 'configmaps', kind: 'ConfigMap', subresources: [], fixLevel: 'Request' },
  secrets: { group: '', resource: 'secrets', kind: 'Secret', subresources: [], fixLevel: 'Metadata' },
  jobs: { group: 'batch', resource: 'jobs', kind: 'Job', subresources: ['status'], fixLevel: 'RequestResponse' },
};

export const AREA_RESOURCES: Record<CoverageArea, readonly ('deployments' | 'configmaps' | 'secrets' | 'jobs')[]> = {
  deployments: ['deployments'],
  config: ['configmaps', 'secrets'],
  jobs: ['jobs'],
};

export const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'] as const;
// A status subresource is only ever written by update and patch.
const SUBRESOURCE_VERBS = ['update', 'patch'] as const;

/** One object (or any object, name undefined) of an area's resources. */
export interface CoverageObject {
  resource: 'deployments' | 'configmaps' | 'secrets' | 'jobs';
  name: string | undefined;
}

export interface PolicyDrop {
  /** 1-based rule; undefined when no rule matches. */
  rule: number | undefined;
  /** e.g. "update of ConfigMap controller-leader by user bob". */
  what: string;
  why: string;
}

export interface PolicyCoverage {
  area: CoverageArea;
  namespace: string;
  known: boolean;
  /** The lowest level a write is logged at, when every write is. */
  level: AuditPolicyLevel | undefined;
  /** The rules that log these writes. */
  rules: number[];
  drops: PolicyDrop[];
  /** One line naming the rules, for the decision's evidence. */
  evidence: string;
  /** The writes left out and why, without the namespace (the same in every namespace a rule spans); "" when covered. */
  gap: string;
  /** How to change the policy so the area is covered; undefined when it is. */
  fix: PolicyFix | undefined;
}

export interface PolicyFix {
  /** In one line, e.g. "add a rule `- level: Metadata\n  resources: [...]` before rule 2". */
  text: string;
  /** The rule to add, as YAML, and where; undefined when the fix is not a new rule. */
  rule: string | undefined;
  where: string | undefined;
}

const levelRank = (l: AuditPolicyLevel): number => AUDIT_LEVELS.indexOf(l);

function whyDropped(o: AuditOutcome, policy: AuditPolicy, minimum: AuditPolicyLevel): string {
  if (o.rule === undefined) return 'no rule matches it (level None)';
  if (o.level === 'None') return `rule ${o.rule} logs it at level None`;
  if (o.omitStages.includes('ResponseComplete')) {
    return policy.omitStages.includes('ResponseComplete') ? `the policy's omitStages drop stage ResponseComplete` : `rule ${o.rule} omits stage ResponseComplete`;
  }
  return `rule ${o.rule} logs it at ${o.level}, without the object; ${minimum} or above shows what it runs`;
}

function describeWrite(verb: string, target: Target, subresource: string | undefined, o: AuditOutcome): string {
  const object = `${target.kind}${subresource ? ` ${subresource}` : ''}${o.example.name ? ` ${o.example.name}` : ''}`;
  const by = o.example.user !== undefined ? ` by user ${o.example.user}` : o.example.group !== undefined ? ` by group ${o.example.group}` : '';
  return `${verb} of ${object}${by}`;
}

const ruleList = (rules: readonly number[]): string => (rules.length === 1 ? `rule ${rules[0]}` : `rules ${rules.join(', ')}`);

function kindsOf(objects: readonly CoverageObject[]): string {
  const parts = objects.map((o) => `${TARGETS[o.resource]?.kind ?? o.resource}${o.name === undefined ? '' : ` ${o.name}`}`);
  const unique = [...new Set(parts)];
  return unique.length <= 1 ? (unique[0] ?? '') : `${unique.slice(0, -1).join(', ')} and ${unique.at(-1) ?? ''}`;
}

function fixFor(policy: AuditPolicy, drops: readonly PolicyDrop[], dropped: readonly Target[]): PolicyFix | undefined {
  if (drops.length === 0) return undefined;
  if (policy.omitStages.includes('ResponseComplete')) return { text: "remove ResponseComplete from the policy's omitStages", rule: undefined, where: undefined };
  const byGroup = new Map<string, string[]>();
  for (const t of dropped) byGroup.set(t.group, [...(byGroup.get(t.group) ?? []), t.resource, ...t.subresources.map((s) => `${t.resource}/${s}`)]);
  // Secrets are never asked for above Metadata (F3): a rule with Secrets in it stays at Metadata.
  const level = dropped.some((t) => t.resource === 'secrets') ? 'Metadata' : dropped.reduce<AuditPolicyLevel>((l, t) => (levelRank(t.fixLevel) > levelRank(l) ? t.fixLevel : l), 'Metadata');
  const resources = [...byGroup].map(([group, rs]) => `{group: ${JSON.stringify(group)}, resources: [${rs.join(', ')}]}`).join(', ');
  const numbered = drops.map((d) => d.rule).filter((r): r is number => r !== undefined);
  const where = numbered.length > 0 ? `before rule ${Math.min(...numbered)}` : 'at the end of the rules';
  const rule = `- level: ${level}\n  resources: [${resources}]`;
  return { text: `add a rule \`${rule}\` ${where}`, rule, where };
}

/**
 * Whether every write to these objects in the namespace, by anyone, reaches the log. For Jobs the
 * create must carry the object (level Request or above): a Metadata record says a Job ran, not
 * what it runs, so a migration could not be ruled out.
 */
export function policyCoverage(policy: AuditPolicy, area: CoverageArea, namespace: string, objects?: readonly CoverageObject[]): PolicyCoverage {
  const wanted = objects ?? AREA_RESOURCES[area].map((resource) => ({ resource, name: undefined }));
  const drops: PolicyDrop[] = [];
  const dropped = new Set<Target>();
  const rules = new Set<number>();
  let lowest: AuditPolicyLevel | undefined;
  for (const object of wanted) {
    const target = TARGETS[object.resource];
    if (target === undefined) continue;
    const writes = [
      ...WRITE_VERBS.map((verb) => ({ verb, subresource: undefined as string | undefined })),
      ...target.subresources.flatMap((subresource) => SUBRESOURCE_VERBS.map((verb) => ({ verb, subresource }))),
    ];
    for (const { verb, subresource } of writes) {
      const minimum: AuditPolicyLevel = area === 'jobs' && subresource === undefined && verb === 'create' ? 'Request' : 'Metadata';
      for (const o of auditOutcomes(policy, { namespace, group: target.group, resource: target.resource, subresource, verb, name: object.name })) {
        if (o.logged && levelRank(o.level) >= levelRank(minimum)) {
          if (o.rule !== undefined) rules.add(o.rule);
          if (lowest === undefined || levelRank(o.level) < levelRank(lowest)) lowest = o.level;
          continue;
        }
        drops.push({ rule: o.rule, what: describeWrite(verb, target, subresource, o), why: whyDropped(o, policy, minimum) });
        dropped.add(target);
      }
    }
  }
  const ruleNumbers = [...rules].sort((a, b) => a - b);
  const kinds = kindsOf(wanted);
  const known = drops.length === 0;
  const level = known ? lowest : undefined;
  let evidence: string;
  const shown = drops.slice(0, 2).map((d) => `${d.what} (${d.why})`);
  const gap = known ? '' : drops.length > 2 ? `${shown.join(', ')} and ${drops.length - 2} more` : shown.join(' and ');
  if (!known) {
    evidence = `the audit policy leaves some ${kinds} writes in ${namespace} out of the log: ${gap}`;
  } else if (wanted.length === 0) {
    evidence = 'the templates read no ConfigMap or Secret';
  } else {
    const at = level === undefined ? '' : ` at ${level}${ruleNumbers.some((r) => policy.rules[r - 1]?.level !== level) ? ' or above' : ''}`;
    evidence = `the audit policy logs every ${kinds} write in ${namespace}${at} (${ruleNumbers.length > 0 ? ruleList(ruleNumbers) : 'no rule'})`;
  }
  return { area, namespace, known, level, rules: ruleNumbers, drops, evidence, gap, fix: fixFor(policy, drops, [...dropped]) };
}

/**
 * What a decision about one deploy may take as seen, from the policy: every write to the
 * ConfigMaps and Secrets its templates read, every Job in the namespace, and (else a doubt, F1)
 * every write to the Deployment itself.
 */
export function decisionCoverage(
  policy: AuditPolicy,
  deploy: { namespace: string; name: string },
  reads: readonly CoverageObject[],
): { coverage: DecisionInput['coverage']; doubts: string[] } {
  const pick = (c: PolicyCoverage) => ({ known: c.known, evidence: c.evidence });
  const config = reads.length === 0 ? true : pick(policyCoverage(policy, 'config', deploy.namespace, reads));
  const jobs = pick(policyCoverage(policy, 'jobs', deploy.namespace));
  const own = policyCoverage(policy, 'deployments', deploy.namespace, [{ resource: 'deployments', name: deploy.name }]);
  const doubts = own.known ? [] : [`${own.evidence}; another change of this Deployment (its next deploy, a rollback, its rollout) could be missing from the log`];
  return { coverage: { config, jobs }, doubts };
}
