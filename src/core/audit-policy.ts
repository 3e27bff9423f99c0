// The kube-apiserver audit policy (audit.k8s.io/v1 Policy) and how kube-apiserver applies it
// (k8s.io/apiserver/pkg/audit/policy/checker.go): the first rule that matches a request decides its
// level and omitted stages; no match is level None. The policy's omitStages are added to every
// rule's. Used to tell, for a kind of write in a namespace, whether every such write, by anyone,
// reaches the log at stage ResponseComplete, and which rules decide it.

export const AUDIT_LEVELS = ['None', 'Metadata', 'Request', 'RequestResponse'] as const;
export type AuditPolicyLevel = (typeof AUDIT_LEVELS)[number];
export const AUDIT_STAGES = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'] as const;
export type AuditPolicyStage = (typeof AUDIT_STAGES)[number];

export interface AuditGroupResources {
  /** "" is the core group. */
  group: string;
  /** Empty: every resource of the group. "*", "res", "res/sub", "*\/sub", "res/*". */
  resources: readonly string[];
  resourceNames: readonly string[];
}

export interface AuditPolicyRule {
  level: AuditPolicyLevel;
  users: readonly string[];
  userGroups: readonly string[];
  verbs: readonly string[];
  resources: readonly AuditGroupResources[];
  /** "" selects cluster-scoped resources. */
  namespaces: readonly string[];
  nonResourceURLs: readonly string[];
  omitStages: readonly AuditPolicyStage[];
}

export interface AuditPolicy {
  omitStages: readonly AuditPolicyStage[];
  rules: readonly AuditPolicyRule[];
}

/** A resource request as the policy sees it (authorizer attributes). */
export interface AuditRequest {
  namespace: string;
  group: string;
  resource: string;
  subresource: string | undefined;
  verb: string;
  /** The object's name; "" for create and deletecollection (the URL names none). */
  name: string;
  user: string;
  groups: readonly string[];
}

const has = (list: readonly string[], value: string): boolean => list.includes(value);

function resourceMatches(rule: AuditPolicyRule, r: AuditRequest): boolean {
  if (rule.namespaces.length > 0 && !has(rule.namespaces, r.namespace)) return false;
  if (rule.resources.length === 0) return true;
  const combined = r.subresource === undefined ? r.resource : `${r.resource}/${r.subresource}`;
  return rule.resources.some((gr) => {
    if (gr.group !== r.group) return false;
    if (gr.resources.length === 0) return true;
    if (gr.resourceNames.length > 0 && !has(gr.resourceNames, r.name)) return false;
    return gr.resources.some(
      (res) =>
        res === combined ||
        res === '*' ||
        (r.subresource !== undefined && res.startsWith('*/') && res.slice(2) === r.subresource) ||
        // "res/*" matches the resource itself and each of its subresources.
        (res.endsWith('/*') && res.slice(0, -2) === r.resource),
    );
  });
}

/** checker.go ruleMatches, for a resource request. */
export function ruleMatches(rule: AuditPolicyRule, r: AuditRequest): boolean {
  if (rule.users.length > 0 && !has(rule.users, r.user)) return false;
  if (rule.userGroups.length > 0 && !r.groups.some((g) => has(rule.userGroups, g))) return false;
  if (rule.verbs.length > 0 && !has(rule.verbs, r.verb)) return false;
  if (rule.namespaces.length > 0 || rule.resources.length > 0) return resourceMatches(rule, r);
  // A rule about non-resource URLs only never matches a resource request.
  return rule.nonResourceURLs.length === 0;
}

export interface AuditDecision {
  /** 1-based index of the deciding rule; undefined when none matches. */
  rule: number | undefined;
  level: AuditPolicyLevel;
  omitStages: readonly AuditPolicyStage[];
  /** Whether the request reaches the log at stage ResponseComplete. */
  logged: boolean;
}

/** What kube-apiserver records for one request. */
export function evaluateAuditPolicy(policy: AuditPolicy, r: AuditRequest): AuditDecision {
  const index = policy.rules.findIndex((rule) => ruleMatches(rule, r));
  const rule = policy.rules[index];
  if (rule === undefined) return { rule: undefined, level: 'None', omitStages: policy.omitStages, logged: false };
  const omitStages = [...new Set([...policy.omitStages, ...rule.omitStages])];
  return { rule: index + 1, level: rule.level, omitStages, logged: rule.level !== 'None' && !omitStages.includes('ResponseComplete') };
}

/** A kind of write, by anyone: `name` undefined means any object name. */
export interface AuditWrite {
  namespace: string;
  group: string;
  resource: string;
  subresource: string | undefined;
  verb: string;
  name: string | undefined;
}

/** One way a kind of write can fare: the rule that decides it for some requester (and object name). */
export interface AuditOutcome extends AuditDecision {
  /** A requester and object name this outcome applies to (a witness), for the evidence. */
  example: { user: string | undefined; group: string | undefined; name: string | undefined };
}

// A name no policy lists: stands for "any other user / object".
const OTHER = '\u0000other';
// Every request carries exactly one of these groups (authenticated users, or the anonymous user).
const BASE_GROUPS = ['system:authenticated', 'system:unauthenticated'] as const;
const UNNAMED_VERBS = new Set(['create', 'deletecollection']);

function candidateRequests(write: AuditWrite, rule: AuditPolicyRule | undefined): AuditRequest[] {
  const users = rule !== undefined && rule.users.length > 0 ? rule.users : [OTHER];
  const extraGroups = rule !== undefined && rule.userGroups.length > 0 ? rule.userGroups : [undefined];
  const names = UNNAMED_VERBS.has(write.verb)
    ? ['']
    : write.name !== undefined
      ? [write.name]
      : [...new Set([...(rule?.resources.flatMap((gr) => gr.resourceNames) ?? []), OTHER])];
  const out: AuditRequest[] = [];
  for (const user of users)
    for (const extra of extraGroups)
      for (const base of BASE_GROUPS)
        for (const name of names) {
          const groups = extra === undefined || extra === base ? [base] : [extra, base];
          out.push({ namespace: write.namespace, group: write.group, resource: write.resource, subresource: write.subresource, verb: write.verb, name, user, groups });
        }
  return out;
}

const shown = (s: string | undefined): string | undefined => (s === undefined || s === OTHER ? undefined : s);

/**
 * Every outcome some request of this kind can have, in rule order. Exact: the policy matches on
 * user name, group membership and object name by listing them, so a request with the fewest groups
 * and with names no earlier rule lists reaches a rule whenever any request can (the only thing not
 * modelled is that the anonymous user is always unauthenticated, which can only add outcomes).
 */
export function auditOutcomes(policy: AuditPolicy, write: AuditWrite): AuditOutcome[] {
  const out: AuditOutcome[] = [];
  const targets: (AuditPolicyRule | undefined)[] = [...policy.rules, undefined];
  targets.forEach((rule, i) => {
    for (const request of candidateRequests(write, rule)) {
      const decision = evaluateAuditPolicy(policy, request);
      if (decision.rule !== (rule === undefined ? undefined : i + 1)) continue;
      // The group that matters: the rule's, or being anonymous when only that escapes the rules before.
      const first = request.groups[0];
      const group = (rule !== undefined && rule.userGroups.length > 0) || first === 'system:unauthenticated' ? first : undefined;
      out.push({ ...decision, example: { user: shown(request.user), group, name: shown(request.name) || undefined } });
      return;
    }
  });
  return out;
}
