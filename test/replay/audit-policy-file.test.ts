import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadAuditPolicy, parseAuditPolicy } from '../../src/replay/audit-policy-file.js';

// F5: the cluster's audit policy file, read as kube-apiserver reads it, every error naming its field.

const errorsOf = (yaml: string): string[] => {
  const r = parseAuditPolicy(parseYaml(yaml));
  return r.ok ? [] : r.errors;
};
const HEADER = 'apiVersion: audit.k8s.io/v1\nkind: Policy\n';

async function file(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rollguard-audit-policy-'));
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('F5: --audit-policy reads the audit.k8s.io/v1 Policy with precise errors', () => {
  it('F5: names the field path of a bad level, with the file', async () => {
    const path = await file('policy.yaml', `${HEADER}rules:\n  - level: Metadata\n  - level: None\n  - level: Full\n`);
    await expect(loadAuditPolicy(path)).rejects.toThrow(`audit policy ${path}: rules[2].level: expected one of None, Metadata, Request, RequestResponse`);
  });

  it('F5: refuses unknown fields kube-apiserver would silently ignore', () => {
    expect(errorsOf(`${HEADER}rules:\n  - level: None\n    namespace: [shop]\n`)).toEqual([
      'rules[0]: unknown field "namespace" (kube-apiserver would ignore it with a warning, so the rule would not mean what it says)',
    ]);
    expect(errorsOf(`${HEADER}rules:\n  - level: None\n    resources: [{group: "", resource: [secrets]}]\n`)[0]).toMatch(/^rules\[0\]\.resources\[0\]: unknown field "resource"/);
    expect(errorsOf(`${HEADER}omitStage: [RequestReceived]\nrules:\n  - level: None\n`)[0]).toMatch(/^unknown field "omitStage"/);
  });

  it('F5: checks apiVersion and kind, and says what to do with v1beta1', () => {
    expect(errorsOf('apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules:\n  - level: None\n')).toEqual([
      'apiVersion: audit.k8s.io/v1beta1 is no longer read by kube-apiserver (only audit.k8s.io/v1 since Kubernetes 1.24); the Policy fields are the same: change apiVersion to audit.k8s.io/v1',
    ]);
    expect(errorsOf('kind: Policy\nrules:\n  - level: None\n')).toEqual(['apiVersion: expected audit.k8s.io/v1, got null']);
    expect(errorsOf('apiVersion: audit.k8s.io/v1\nkind: Event\nrules:\n  - level: None\n')).toEqual(['kind: expected Policy, got "Event"']);
    expect(errorsOf('- level: None\n')).toEqual(['expected an audit.k8s.io/v1 Policy object']);
  });

  it('F5: validates as kube-apiserver does: rules, stages, groups, resourceNames, non-resource URLs', () => {
    expect(errorsOf(`${HEADER}rules: []\n`)).toEqual(['rules: a policy needs at least one rule (kube-apiserver refuses a policy with none)']);
    expect(errorsOf(`${HEADER}rules:\n  - users: [bob]\n`)[0]).toBe('rules[0].level: expected one of None, Metadata, Request, RequestResponse');
    expect(errorsOf(`${HEADER}omitStages: [Done]\nrules:\n  - level: None\n`)).toEqual(['omitStages[0]: expected one of RequestReceived, ResponseStarted, ResponseComplete, Panic']);
    expect(errorsOf(`${HEADER}rules:\n  - level: None\n    resources: [{group: apps/v1, resources: [deployments]}]\n`)[0]).toMatch(/^rules\[0\]\.resources\[0\]\.group: expected "" \(the core group\)/);
    expect(errorsOf(`${HEADER}rules:\n  - level: None\n    resources: [{group: "", resourceNames: [db]}]\n`)).toEqual(['rules[0].resources[0].resourceNames: using resourceNames requires at least one resource']);
    expect(errorsOf(`${HEADER}rules:\n  - level: None\n    namespaces: [shop]\n    nonResourceURLs: [/healthz]\n`)).toEqual([
      'rules[0].nonResourceURLs: rules cannot apply to both regular resources and non-resource URLs',
    ]);
    expect(errorsOf(`${HEADER}rules:\n  - level: None\n    nonResourceURLs: ["/a*b", healthz]\n`)).toHaveLength(2);
  });

  it('F5: YAML and JSON both read; a duplicate key and broken syntax are refused', async () => {
    const json = await file('policy.json', JSON.stringify({ apiVersion: 'audit.k8s.io/v1', kind: 'Policy', omitStages: ['RequestReceived'], rules: [{ level: 'Metadata', users: null }] }));
    expect(await loadAuditPolicy(json)).toEqual({
      omitStages: ['RequestReceived'],
      rules: [{ level: 'Metadata', users: [], userGroups: [], verbs: [], resources: [], namespaces: [], nonResourceURLs: [], omitStages: [] }],
    });
    const duplicate = await file('dup.yaml', `${HEADER}rules:\n  - level: None\n    level: Metadata\n`);
    await expect(loadAuditPolicy(duplicate)).rejects.toThrow(/not valid YAML or JSON: .*unique/i);
    await expect(loadAuditPolicy(join(tmpdir(), 'no-such-policy.yaml'))).rejects.toThrow(/cannot read the file/);
  });
});
