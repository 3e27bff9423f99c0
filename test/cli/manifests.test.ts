import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runCliAsync } from '../support/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rollguard-manifests-'));
const ca = join(dir, 'ca.crt');
writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----\n');

type Doc = { kind: string; webhooks: { clientConfig: { url?: string; service?: unknown }; namespaceSelector: { matchExpressions: { values: string[] }[] } }[] };

describe('F2 rollguard manifests --url', () => {
  it('prints both configurations pointing at the URL, rollguard namespace excluded by default', async () => {
    const r = await runCliAsync(['manifests', '--url', 'https://127.0.0.1:9443', '--ca-bundle', ca]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Doc);
    expect(docs.map((d) => [d.kind, d.webhooks[0]?.clientConfig.url, d.webhooks[0]?.clientConfig.service])).toEqual([
      ['MutatingWebhookConfiguration', 'https://127.0.0.1:9443/mutate', undefined],
      ['ValidatingWebhookConfiguration', 'https://127.0.0.1:9443/validate', undefined],
    ]);
    expect(docs[0]?.webhooks[0]?.namespaceSelector.matchExpressions[0]?.values).toEqual(['kube-system', 'rollguard']);
    expect(parseAllDocuments(r.stdout).map((d) => (d.toJS() as { metadata: { name: string } }).metadata.name)).toEqual(['rollguard', 'rollguard']);
  });

  it('--name names both configurations, so a local webhook can sit next to a Helm release', async () => {
    const r = await runCliAsync(['manifests', '--url', 'https://127.0.0.1:9443', '--ca-bundle', ca, '--name', 'rollguard-dev']);
    expect(r.status).toBe(0);
    expect(parseAllDocuments(r.stdout).map((d) => (d.toJS() as { metadata: { name: string } }).metadata.name)).toEqual(['rollguard-dev', 'rollguard-dev']);
  });
});

describe('F2 rollguard manifests --kube-version', () => {
  type WithConditions = { kind: string; webhooks: { matchConditions?: { name: string }[]; timeoutSeconds: number }[] };
  const print = async (extra: string[]): Promise<WithConditions[]> => {
    const r = await runCliAsync(['manifests', '--url', 'https://127.0.0.1:9443', '--ca-bundle', ca, ...extra]);
    expect(r.stderr).toBe('');
    return parseAllDocuments(r.stdout).map((d) => d.toJS() as WithConditions);
  };

  it('1.28 and later: the mutating webhook leaves leader-election ConfigMaps alone; 1 s mutating, 3 s validating', async () => {
    const [mutating, validating] = await print(['--kube-version', 'v1.28.3']);
    expect(mutating?.webhooks[0]?.matchConditions?.map((c) => c.name)).toEqual(['not-a-leader-election-lock']);
    expect(validating?.webhooks.every((w) => w.matchConditions === undefined)).toBe(true);
    expect([mutating, validating].flatMap((d) => d?.webhooks.map((w) => w.timeoutSeconds))).toEqual([1, 3, 3]);
  });

  it.each([[[]], [['--kube-version', '1.27']]])('%j: no matchConditions, which every apiserver accepts', async (extra) => {
    expect((await print(extra))[0]?.webhooks[0]?.matchConditions).toBeUndefined();
  });

  it('F5 a --kube-version that is not one: exit 2 and what is expected', async () => {
    const r = await runCliAsync(['manifests', '--url', 'https://127.0.0.1:9443', '--ca-bundle', ca, '--kube-version', 'latest']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^rollguard manifests: --kube-version latest is not a Kubernetes version/);
    expect(r.stdout).toBe('');
  });
});

describe('F5 rollguard manifests explains a missing or doubled target', () => {
  it.each([
    ['neither', ['--namespace', 'rollguard']],
    ['both', ['--namespace', 'rollguard', '--service', 'rollguard-webhook', '--url', 'https://127.0.0.1:9443']],
  ])('%s --url/--service: exit 2 and the rule', async (_label, args) => {
    const r = await runCliAsync(['manifests', ...args, '--ca-bundle', ca]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^rollguard manifests: give exactly one of --url or --service/);
    expect(r.stdout).toBe('');
  });

  it('--service without --namespace: exit 2, the Service needs its namespace', async () => {
    const r = await runCliAsync(['manifests', '--service', 'rollguard-webhook', '--ca-bundle', ca]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--service needs --namespace/);
  });
});

describe('R7 rollguard manifests --agent-rbac', () => {
  type RbacDoc = { kind: string; metadata: { name: string; namespace?: string }; rules?: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[]; subjects?: { name: string; namespace: string }[] };

  it("prints the agent's ServiceAccount and least-privilege roles; no verb that writes Secrets or ConfigMaps, and no delete but of its own decisions", async () => {
    const r = await runCliAsync(['manifests', '--agent-rbac', '--namespace', 'ops']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as RbacDoc);
    expect(docs.map((d) => d.kind)).toEqual(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
    expect(docs[0]?.metadata).toMatchObject({ name: 'rollguard-agent', namespace: 'ops' });
    const rules = docs.flatMap((d) => d.rules ?? []);
    const verbsOn = (resource: string) => rules.filter((x) => x.resources.includes(resource)).flatMap((x) => x.verbs).sort();
    expect(verbsOn('secrets')).toEqual(['get', 'list', 'watch']);
    // Reading a Secret's data (F3): only in rollguard's own namespace, for the notification credentials.
    const clusterSecrets = (docs.find((d) => d.kind === 'ClusterRole')?.rules ?? []).filter((x) => x.resources.includes('secrets')).flatMap((x) => x.verbs);
    expect(clusterSecrets.sort()).toEqual(['list', 'watch']);
    const role = docs.find((d) => d.kind === 'Role');
    expect(role?.metadata.namespace).toBe('ops');
    expect(role?.rules?.filter((x) => x.resources.includes('secrets')).flatMap((x) => x.verbs)).toEqual(['get']);
    expect(verbsOn('configmaps')).toEqual(['list', 'watch']);
    expect(verbsOn('deployments')).toEqual(['get', 'list', 'patch', 'watch']);
    expect(verbsOn('events')).toEqual(['create']);
    // The one delete: its own RollbackDecisions, pruned by age, in rollguard's namespace only (the Role).
    expect(rules.filter((x) => x.verbs.includes('delete')).map((x) => x.resources)).toEqual([['rollbackdecisions']]);
    expect((docs.find((d) => d.kind === 'ClusterRole')?.rules ?? []).flatMap((x) => x.verbs)).not.toContain('delete');
    expect(rules.find((x) => x.verbs.includes('update'))?.resourceNames).toEqual(['rollguard-agent']);
    expect(docs[2]?.subjects).toEqual([{ kind: 'ServiceAccount', name: 'rollguard-agent', namespace: 'ops' }]);
  });

  it("R7 its ClusterRole and bindings are named after --name, so a local agent's RBAC never rebinds a release's", async () => {
    const named = (args: string[]) => runCliAsync(['manifests', '--agent-rbac', '--namespace', 'dev', ...args]).then((r) => parseAllDocuments(r.stdout).map((d) => d.toJS() as RbacDoc));
    const [byDefault, local] = await Promise.all([named([]), named(['--name', 'rollguard-local'])]);
    expect(byDefault.filter((d) => d.kind !== 'ServiceAccount').map((d) => d.metadata.name)).toEqual(['rollguard-agent', 'rollguard-agent', 'rollguard-agent', 'rollguard-agent']);
    expect(local.filter((d) => d.kind !== 'ServiceAccount').map((d) => d.metadata.name)).toEqual(['rollguard-local-agent', 'rollguard-local-agent', 'rollguard-local-agent', 'rollguard-local-agent']);
    expect(local.find((d) => d.kind === 'ClusterRoleBinding')).toMatchObject({ roleRef: { name: 'rollguard-local-agent' } });
  });

  it('without --agent-rbac the CA bundle is required, and says so', async () => {
    const r = await runCliAsync(['manifests', '--url', 'https://127.0.0.1:9443']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--ca-bundle FILE is required/);
  });
});
