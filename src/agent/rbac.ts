// The least privilege the agent needs, verb by verb, as Kubernetes objects (printed by
// `rollguard manifests --agent-rbac`, applied by the tests, and the chart's source of truth).

export interface AgentRbacOptions {
  /** rollguard's own namespace: the ServiceAccount and the Lease live here. */
  namespace: string;
  serviceAccount?: string;
  /** Name of the ClusterRole/ClusterRoleBinding (unique per installation). */
  name?: string;
  leaseName?: string;
}

/** Each rule with why the agent needs it; the RBAC table of docs/install.md#rbac is generated from the same list. */
export const AGENT_CLUSTER_RULES: readonly { apiGroups: string[]; resources: string[]; verbs: string[]; why: string }[] = [
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch'], why: 'watch every Deployment: its stamps, template, status and revision' },
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['patch'], why: 'the rollback (one conditional JSON patch, as kubectl rollout undo), the decision and rollout-completion annotations' },
  { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get', 'list', 'watch'], why: 'the revisions: the previous template a rollback restores' },
  { apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'], why: "the webhook's stamps on ConfigMaps the templates read (requested as metadata only)" },
  { apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch'], why: "the stamps on Secrets, requested as metadata only (F3): RBAC has no metadata-only verb, so list/watch are needed even though the data is never asked for" },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch'], why: 'migration Jobs (R4): watched as metadata; a Job that may overlap a window is read once for its run times' },
  { apiGroups: [''], resources: ['events'], verbs: ['create'], why: 'an Event on the Deployment for every decision and rollback' },
  { apiGroups: ['rollguard.io'], resources: ['rollbackpolicies', 'clusterrollbackpolicies'], verbs: ['list', 'watch'], why: 'the policy CRDs (R11, `--policy-source crd`): the cluster default and each namespace\'s policy, watched so a change applies without a restart' },
  { apiGroups: ['rollguard.io'], resources: ['rollbackpolicies/status', 'clusterrollbackpolicies/status'], verbs: ['patch'], why: "the leader reports in each policy's status whether it is accepted and which generation applies (one that got in while the webhook was down is Invalid there)" },
];

export const AGENT_LEASE_RULES: readonly { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[]; why: string }[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'], why: 'create the Lease the first time (create cannot be limited to a name)' },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'update'], resourceNames: ['rollguard-agent'], why: 'leader election: read and renew its own Lease only' },
];

/**
 * Only with the apply button on: who a person is (TokenReview), whether they may (SubjectAccessReview),
 * and acting as them. RBAC cannot limit impersonation to "whoever passed the review", which is why
 * it is off unless asked for.
 */
export const AGENT_APPLY_RULES: readonly { apiGroups: string[]; resources: string[]; verbs: string[]; why: string }[] = [
  { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'], why: 'apply button: ask the apiserver who a bearer token belongs to' },
  { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'], why: 'apply button: ask whether that person may patch the Deployment' },
  { apiGroups: [''], resources: ['users', 'groups', 'serviceaccounts'], verbs: ['impersonate'], why: 'apply button: roll back as that person, so the audit log and rolled-back-by name them' },
];

/** The extra ClusterRole and binding for the apply button. */
export function agentApplyRbac(opts: AgentRbacOptions): Record<string, unknown>[] {
  const sa = opts.serviceAccount ?? 'rollguard-agent';
  const name = `${opts.name ?? 'rollguard-agent'}-apply`;
  const labels = { 'app.kubernetes.io/name': 'rollguard', 'app.kubernetes.io/component': 'agent' };
  return [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels }, rules: AGENT_APPLY_RULES.map(({ apiGroups, resources, verbs }) => ({ apiGroups, resources, verbs })) },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name, labels }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name }, subjects: [{ kind: 'ServiceAccount', name: sa, namespace: opts.namespace }] },
  ];
}

/** In rollguard's own namespace only: the credentials the policy's notifications reference. */
export const AGENT_OWN_SECRET_RULES: readonly { apiGroups: string[]; resources: string[]; verbs: string[]; why: string }[] = [
  { apiGroups: [''], resources: ['secrets'], verbs: ['get'], why: "in rollguard's own namespace only (a Role): the Slack and webhook credentials the policy references by name (notifications); values are never logged or stored" },
];

/** In rollguard's own namespace only: the decisions, one RollbackDecision each, shared by every replica. */
export const AGENT_DECISION_RULES: readonly { apiGroups: string[]; resources: string[]; verbs: string[]; why: string }[] = [
  { apiGroups: ['rollguard.io'], resources: ['rollbackdecisions'], verbs: ['create', 'get', 'list', 'watch', 'update', 'delete'], why: "in rollguard's own namespace only (a Role): the decisions, one RollbackDecision each, which every replica reads and writes (state, who acted, the Slack message); closed ones are deleted after the retention" },
];

export function agentRbac(opts: AgentRbacOptions): Record<string, unknown>[] {
  const sa = opts.serviceAccount ?? 'rollguard-agent';
  const name = opts.name ?? 'rollguard-agent';
  const leaseName = opts.leaseName ?? 'rollguard-agent';
  const labels = { 'app.kubernetes.io/name': 'rollguard', 'app.kubernetes.io/component': 'agent' };
  const subject = [{ kind: 'ServiceAccount', name: sa, namespace: opts.namespace }];
  const strip = <T extends { why: string }>(r: T): Omit<T, 'why'> => Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'why')) as Omit<T, 'why'>;
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: opts.namespace, labels } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels }, rules: AGENT_CLUSTER_RULES.map(strip) },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name, labels }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name }, subjects: subject },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name, namespace: opts.namespace, labels },
      rules: [...AGENT_LEASE_RULES.map((r) => strip(r.resourceNames === undefined ? r : { ...r, resourceNames: [leaseName] })), ...AGENT_OWN_SECRET_RULES.map(strip), ...AGENT_DECISION_RULES.map(strip)],
    },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name, namespace: opts.namespace, labels }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects: subject },
  ];
}

/** The rows of the RBAC table in docs/install.md#rbac (a docs test keeps the page equal to them). */
export function rbacTableRows(): string[] {
  const rules: readonly { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[]; why: string }[] = [...AGENT_CLUSTER_RULES, ...AGENT_LEASE_RULES, ...AGENT_OWN_SECRET_RULES, ...AGENT_DECISION_RULES, ...AGENT_APPLY_RULES];
  return rules.map((r) => {
    const resource = `${r.apiGroups.map((g) => (g === '' ? '' : `${g}/`)).join('')}${r.resources.join(', ')}`;
    const names = r.resourceNames === undefined ? '' : ` (${r.resourceNames.join(', ')})`;
    return `| ${resource}${names} | ${r.verbs.join(', ')} | ${r.why} |`;
  });
}
