import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { agentApplyRbac } from '../../src/agent/rbac.js';
import { serviceAccountToken, type Stack } from './rollguard-stack.js';

// People for the apply-button tests: a ServiceAccount in the application namespace bound to a
// ClusterRole there (edit may roll back, view may not), with its token and a kubeconfig of it; and
// the agent's extra rights to check and impersonate them.

export interface Person {
  user: string;
  token: string;
  kubeconfig: string;
}

/** A ServiceAccount in the stack's application namespace, bound to `clusterRole` there and in `alsoIn`. */
export async function person(s: Stack, name: string, clusterRole: string, alsoIn: readonly string[] = []): Promise<Person> {
  await s.admin.create(`/api/v1/namespaces/${s.ns}/serviceaccounts`, { metadata: { name } });
  for (const ns of [s.ns, ...alsoIn]) {
    await s.admin.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
      metadata: { name: `${name}-${clusterRole}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
      subjects: [{ kind: 'ServiceAccount', name, namespace: s.ns }],
    });
  }
  const token = await serviceAccountToken(s.admin, s.ns, name);
  const kubeconfig = join(s.dir, `${name}.kubeconfig`);
  const ca = Buffer.from(await readFile(s.cp.caFile)).toString('base64');
  await writeFile(kubeconfig, stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'c', cluster: { server: s.cp.apiserverUrl, 'certificate-authority-data': ca } }], users: [{ name, user: { token } }], contexts: [{ name, context: { cluster: 'c', user: name, namespace: s.ns } }], 'current-context': name }));
  return { user: `system:serviceaccount:${s.ns}:${name}`, token, kubeconfig };
}

/** The apply button's ClusterRole and binding for the stack's agent; returns their cleanup. */
export async function grantApplyButton(s: Stack): Promise<() => Promise<void>> {
  const suffix = randomBytes(3).toString('hex');
  const created: string[] = [];
  for (const o of agentApplyRbac({ namespace: s.own, serviceAccount: s.serviceAccount, name: `rollguard-agent-${suffix}` })) {
    const kind = (o as { kind: string }).kind === 'ClusterRole' ? 'clusterroles' : 'clusterrolebindings';
    const name = (o as { metadata: { name: string } }).metadata.name;
    await s.admin.create(`/apis/rbac.authorization.k8s.io/v1/${kind}`, o);
    created.push(`/apis/rbac.authorization.k8s.io/v1/${kind}/${name}`);
  }
  return async () => {
    for (const p of created.reverse()) await s.admin.request('DELETE', p).catch(() => undefined);
  };
}
