import { randomBytes } from 'node:crypto';
import { agentRbac } from '../agent/rbac.js';
import { isRollguardKey } from '../core/annotations.js';
import { reviewAccess } from '../kube/auth-reviews.js';
import { isStatus, paths, type KubeRest } from '../kube/rest.js';
import { serviceAccountUsername } from '../kube/service-account.js';
import { fail, guarded, pass, type CheckResult } from './result.js';

// The checks `rollguard check` makes of an install through the caller's kubeconfig: the API
// answers, the webhook configurations exist and the webhook really stamps a write (a dry run), the
// agent holds its Lease, and the agent's service account has every permission rollguard's RBAC lists.

export interface InstallFacts {
  /** rollguard's namespace (the Lease, the agent's ServiceAccount). */
  namespace: string;
  /** Name of the webhook configurations (`rollguard manifests --name`, the chart's release). */
  webhookName: string;
  agentServiceAccount: string;
  leaseName: string;
  /** Where the dry-run ConfigMap is written (the webhook skips kube-system and rollguard's own). */
  dryRunNamespace: string;
  now: number;
}

interface WebhookConfiguration {
  webhooks?: { name?: string }[];
}

export function checkApiServer(rest: KubeRest): Promise<CheckResult> {
  const name = 'the Kubernetes API answers';
  return guarded(name, 'check --kubeconfig/--context, and that this kubeconfig reaches the cluster (kubectl version)', async () => {
    const v = await rest.get<{ gitVersion?: string }>('/version');
    return pass(name, `${v.gitVersion ?? 'unknown version'} at ${rest.server()}`);
  });
}

export function checkWebhookRegistered(rest: KubeRest, facts: InstallFacts): Promise<CheckResult> {
  const name = 'the webhook configurations are registered';
  const fix = `install the chart (helm install rollguard charts/rollguard -n ${facts.namespace}) or apply rollguard manifests --name ${facts.webhookName} …; if they were installed under another name, pass --name`;
  return guarded(name, fix, async () => {
    const found: string[] = [];
    const missing: string[] = [];
    for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'] as const) {
      const plural = kind === 'MutatingWebhookConfiguration' ? 'mutatingwebhookconfigurations' : 'validatingwebhookconfigurations';
      try {
        const c = await rest.get<WebhookConfiguration>(`/apis/admissionregistration.k8s.io/v1/${plural}/${facts.webhookName}`);
        found.push(`${kind} ${facts.webhookName} (${(c.webhooks ?? []).map((w) => w.name ?? '?').join(', ')})`);
      } catch (err) {
        if (!isStatus(err, 404)) throw err;
        missing.push(`${kind} ${facts.webhookName}`);
      }
    }
    return missing.length === 0 ? pass(name, found.join('; ')) : fail(name, `not found: ${missing.join(', ')}`, fix);
  });
}

/** A dry-run create goes through admission without being stored: the webhook's stamps show it was called. */
export function checkDryRunStamped(rest: KubeRest, facts: InstallFacts): Promise<CheckResult> {
  const name = 'a write is stamped by the webhook (dry run)';
  const fix = `the apiserver calls the webhook and ignores a failure (failurePolicy Ignore), so writes go through unstamped: check that the webhook pods are Ready (kubectl -n ${facts.namespace} get pods), that the webhook Service has endpoints, and that the configurations' caBundle signed the serving certificate; the apiserver's log names the failed call ("failed calling webhook")`;
  return guarded(name, fix, async () => {
    const cmName = `rollguard-check-${randomBytes(4).toString('hex')}`;
    const created = await rest.create<{ metadata?: { annotations?: Record<string, string> } }>(
      `/api/v1/namespaces/${facts.dryRunNamespace}/configmaps`,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: cmName, namespace: facts.dryRunNamespace }, data: { check: 'rollguard' } },
      { query: { dryRun: 'All' } },
    );
    const stamps = Object.keys(created.metadata?.annotations ?? {}).filter(isRollguardKey);
    if (stamps.length === 0) return fail(name, `ConfigMap ${facts.dryRunNamespace}/${cmName} was admitted without any rollguard.io/ stamp`, fix);
    return pass(name, `ConfigMap ${facts.dryRunNamespace}/${cmName} came back with ${stamps.sort().join(', ')} (nothing was stored)`);
  });
}

interface Lease {
  spec?: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number };
}

export function checkLeaseHeld(rest: KubeRest, facts: InstallFacts): Promise<CheckResult> {
  const name = "the agent's Lease is held";
  const fix = `check the agent containers (kubectl -n ${facts.namespace} logs deploy/rollguard -c agent): no holder means no agent is running or none can renew the Lease (its RBAC, the apiserver)`;
  return guarded(name, fix, async () => {
    let lease: Lease;
    try {
      lease = await rest.get<Lease>(paths.lease(facts.namespace, facts.leaseName));
    } catch (err) {
      if (isStatus(err, 404)) return fail(name, `no Lease ${facts.namespace}/${facts.leaseName}: no agent has ever run with --namespace ${facts.namespace}`, fix);
      throw err;
    }
    const holder = lease.spec?.holderIdentity ?? '';
    const renewed = Date.parse(lease.spec?.renewTime ?? '');
    const durationMs = (lease.spec?.leaseDurationSeconds ?? 15) * 1000;
    if (holder === '') return fail(name, `Lease ${facts.namespace}/${facts.leaseName} has no holder (released)`, fix);
    if (Number.isNaN(renewed) || facts.now - renewed > durationMs) {
      return fail(name, `Lease ${facts.namespace}/${facts.leaseName} was last renewed by ${holder} ${Number.isNaN(renewed) ? 'never' : `at ${new Date(renewed).toISOString()}`}, longer ago than its ${String(durationMs / 1000)} s duration: the leader is gone and no standby took over`, fix);
    }
    return pass(name, `by ${holder}, renewed ${String(Math.max(0, Math.round((facts.now - renewed) / 1000)))} s ago`);
  });
}

interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** Every permission rollguard's RBAC lists for the agent, asked of the apiserver for its service account. */
export function checkAgentRbac(rest: KubeRest, facts: InstallFacts): Promise<CheckResult> {
  const name = "the agent's RBAC is enough";
  const user = serviceAccountUsername(facts.namespace, facts.agentServiceAccount);
  const fix = `apply rollguard's RBAC (the chart does; or rollguard manifests --agent-rbac --namespace ${facts.namespace} | kubectl apply -f -)`;
  return guarded(name, fix, async () => {
    const objects = agentRbac({ namespace: facts.namespace, serviceAccount: facts.agentServiceAccount, leaseName: facts.leaseName }) as { kind: string; rules?: RbacRule[] }[];
    const questions = objects.flatMap((o) => {
      const namespace = o.kind === 'ClusterRole' ? '' : facts.namespace;
      return (o.rules ?? []).flatMap((r) =>
        r.apiGroups.flatMap((group) =>
          r.resources.flatMap((path) => {
            const [resource = path, subresource] = path.split('/');
            return r.verbs.map((verb) => ({ namespace, group, resource, verb, ...(subresource === undefined ? {} : { subresource }), ...(r.resourceNames?.[0] === undefined ? {} : { name: r.resourceNames[0] }) }));
          }),
        ),
      );
    });
    const who = { user, groups: ['system:serviceaccounts', `system:serviceaccounts:${facts.namespace}`, 'system:authenticated'] };
    const answers = await Promise.all(questions.map((q) => reviewAccess(rest, who, q)));
    const denied = answers.flatMap((a) => (a.allowed ? [] : [a.reason]));
    if (denied.length > 0) return fail(name, `${String(denied.length)} of ${String(questions.length)} permissions missing: ${denied.join('; ')}`, fix);
    return pass(name, `all ${String(questions.length)} permissions granted to ${user}`);
  });
}
