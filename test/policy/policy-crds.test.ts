import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { webhookConfigurations } from '../../src/admission/manifests.js';
import { policyCrds } from '../../src/policy/policy-crds.js';
import { decisionCrd } from '../../src/agent/decision-crd.js';
import { decisionCrdFile, policyCrdFiles } from '../../src/cli/crd-files.js';
import { DURATION_PATTERN, type Schema } from '../../src/policy/policy-schema.js';
import { parseDuration } from '../../src/core/duration.js';
import { policyInputSchema } from '../../src/core/policy.js';
import { runCli } from '../support/run-cli.js';

const CRDS_DIR = join(import.meta.dirname, '..', '..', 'charts', 'rollguard', 'crds');

type Version = { name: string; schema: { openAPIV3Schema: Schema }; subresources: unknown; additionalPrinterColumns: { name: string; jsonPath: string }[] };
type Crd = { metadata: { name: string }; spec: { group: string; scope: string; names: { kind: string }; versions: Version[] } };

const crds = policyCrds() as unknown as Crd[];
const root = (crd: Crd): Schema => (crd.spec.versions[0] as Version).schema.openAPIV3Schema;
const props = (s: Schema): Record<string, Schema> => (s.properties ?? {}) as Record<string, Schema>;

/** Every schema node with its path. */
function nodes(s: Schema, path = ''): [string, Schema][] {
  const out: [string, Schema][] = [[path, s]];
  for (const [k, v] of Object.entries(props(s))) out.push(...nodes(v, `${path}.${k}`));
  if (s.items !== undefined) out.push(...nodes(s.items as Schema, `${path}[]`));
  if (typeof s.additionalProperties === 'object') out.push(...nodes(s.additionalProperties as Schema, `${path}{}`));
  return out;
}

type ZodDef = { type: string; innerType?: unknown; shape?: Record<string, unknown>; element?: unknown; valueType?: unknown; in?: unknown; entries?: Record<string, string> };
const def = (s: unknown): ZodDef => (s as { _zod: { def: ZodDef } })._zod.def;

/** Differences between the zod schema of a policy and the CRD's schema of it, as "path: problem". */
function drift(zod: unknown, crd: Schema, path: string): string[] {
  let d = def(zod);
  let nullable = false;
  while (d.type === 'optional' || d.type === 'nullable') {
    if (d.type === 'nullable') nullable = true;
    d = def(d.innerType);
  }
  const out: string[] = [];
  if (nullable !== (crd.nullable === true)) out.push(`${path}: nullable ${String(nullable)} in zod`);
  switch (d.type) {
    case 'object': {
      if (crd.type !== 'object') return [...out, `${path}: object in zod, ${String(crd.type)} in the CRD`];
      const zodKeys = Object.keys(d.shape ?? {}).sort();
      const crdKeys = Object.keys(props(crd)).sort();
      if (zodKeys.join() !== crdKeys.join()) out.push(`${path}: fields ${zodKeys.join(',')} in zod, ${crdKeys.join(',')} in the CRD`);
      for (const k of zodKeys) if (props(crd)[k] !== undefined) out.push(...drift(d.shape?.[k], props(crd)[k] as Schema, `${path}.${k}`));
      return out;
    }
    case 'pipe':
      return def(d.in).type === 'union' && crd['x-kubernetes-int-or-string'] === true ? out : [...out, `${path}: a duration in zod, not int-or-string in the CRD`];
    case 'enum':
      return JSON.stringify(Object.values(d.entries ?? {})) === JSON.stringify(crd.enum) ? out : [...out, `${path}: enum ${JSON.stringify(Object.values(d.entries ?? {}))} vs ${JSON.stringify(crd.enum)}`];
    case 'array':
      return crd.type === 'array' ? [...out, ...drift(d.element, crd.items as Schema, `${path}[]`)] : [...out, `${path}: array in zod`];
    case 'record':
      return typeof crd.additionalProperties === 'object' ? [...out, ...drift(d.valueType, crd.additionalProperties as Schema, `${path}{}`)] : [...out, `${path}: record in zod`];
    case 'string':
      return crd.type === 'string' ? out : [...out, `${path}: string in zod, ${String(crd.type)} in the CRD`];
    case 'number':
      return crd.type === 'number' || crd.type === 'integer' ? out : [...out, `${path}: number in zod, ${String(crd.type)} in the CRD`];
    default:
      return [...out, `${path}: zod type ${d.type} has no CRD counterpart in this test`];
  }
}

describe('R11 the policy CRDs', () => {
  it('are ClusterRollbackPolicy (cluster-scoped) and RollbackPolicy (namespaced), rollguard.io/v1alpha1, with a status subresource and printer columns', () => {
    expect(crds.map((c) => [c.metadata.name, c.spec.names.kind, c.spec.scope])).toEqual([
      ['clusterrollbackpolicies.rollguard.io', 'ClusterRollbackPolicy', 'Cluster'],
      ['rollbackpolicies.rollguard.io', 'RollbackPolicy', 'Namespaced'],
    ]);
    for (const crd of crds) {
      expect(crd.spec.group).toBe('rollguard.io');
      const [version] = crd.spec.versions;
      expect(version?.name).toBe('v1alpha1');
      expect(version?.subresources).toEqual({ status: {} });
      expect(version?.additionalPrinterColumns.map((c) => c.name)).toEqual(['Mode', 'Accepted', 'Reason', 'Age']);
    }
  });

  it.each(crds.map((c) => [c.metadata.name, c] as const))('%s has a structural schema: every node has a type, junctors nowhere', (_name, crd) => {
    for (const [path, node] of nodes(root(crd))) {
      const typed = typeof node.type === 'string' || node['x-kubernetes-int-or-string'] === true;
      expect(typed, `schema node ${path || '(root)'} has no type`).toBe(true);
      for (const junctor of ['allOf', 'anyOf', 'oneOf', 'not']) expect(node[junctor], `${path} uses ${junctor}`).toBeUndefined();
    }
  });

  it('keeps unknown fields only inside the policy documents (spec, status.appliedSpec), where parsePolicy names them', () => {
    for (const crd of crds) {
      for (const [path, node] of nodes(root(crd))) {
        if (node['x-kubernetes-preserve-unknown-fields'] !== true) continue;
        expect(path, `${path} keeps unknown fields`).toMatch(/^\.(spec|status\.appliedSpec)(\.|\[|\{|$)/);
        expect(node.type).toBe('object');
      }
    }
  });

  it.each(crds.map((c) => [c.metadata.name, c] as const))('%s: spec and status.appliedSpec have exactly the fields, enums and types of the policy file format (no drift from policyInputSchema)', (_name, crd) => {
    const spec = props(root(crd)).spec as Schema;
    const applied = props(props(root(crd)).status as Schema).appliedSpec as Schema;
    expect(drift(policyInputSchema, spec, 'spec')).toEqual([]);
    expect(drift(policyInputSchema, applied, 'status.appliedSpec')).toEqual([]);
  });

  it('sets no schema defaults: an unset field must inherit from the cluster default, not be filled in by the apiserver', () => {
    for (const crd of crds) for (const [path, node] of nodes(root(crd))) expect(node.default, path).toBeUndefined();
  });

  it('F5 the duration pattern accepts exactly the text parseDuration accepts', () => {
    const pattern = new RegExp(DURATION_PATTERN);
    const text = fc.string({ unit: fc.constantFrom(...'0123456789.mshd x'.split('')), maxLength: 10 });
    fc.assert(
      fc.property(text, (t) => {
        expect(pattern.test(t)).toBe(parseDuration(t) !== undefined);
      }),
      { numRuns: 3000 },
    );
    for (const ok of ['15m', '1h30m', '90s', '500ms', '1.5h', ' 2d ']) expect(pattern.test(ok), ok).toBe(true);
    for (const bad of ['', 'soon', '15', 'm', '-5m', '1h 30m']) expect(pattern.test(bad), bad).toBe(false);
  });

  it('the files in charts/rollguard/crds/ are the generated YAML (regenerate: rollguard manifests --crds --out-dir charts/rollguard/crds)', () => {
    for (const file of [...policyCrdFiles(), decisionCrdFile()]) expect(readFileSync(join(CRDS_DIR, file.name), 'utf8'), file.name).toBe(file.text);
  });

  it('are written as YAML 1.1 reads them (kubectl, Helm): "off" stays a string, not the boolean false', () => {
    for (const file of policyCrdFiles()) {
      const docs = parseAllDocuments(file.text, { version: '1.1' }).map((d) => d.toJS() as unknown);
      expect(docs).toEqual([policyCrds().find((c) => file.name.startsWith(`${(c.metadata as { name: string }).name}.`))]);
    }
  });

  it('`rollguard manifests --crds` prints the policy CRDs and the RollbackDecision CRD', () => {
    const r = runCli(['manifests', '--crds']);
    expect(r.status).toBe(0);
    expect(parseAllDocuments(r.stdout, { version: '1.1' }).map((d) => d.toJS() as unknown)).toEqual([...policyCrds(), decisionCrd()]);
  });
});

describe('R11 the policy webhook, failing open like the others (F2)', () => {
  type Hook = { name: string; failurePolicy: string; namespaceSelector: unknown; rules: { apiGroups: string[]; resources: string[]; operations: string[]; scope: string }[]; clientConfig: { service: { path: string } } };
  const [mutating, validating] = webhookConfigurations({ namespace: 'rollguard', service: 'rollguard-webhook', caBundle: 'Q0E=' }) as { webhooks: Hook[] }[];

  it('R11 validates CREATE and UPDATE of both policy kinds, the cluster-scoped one with scope Cluster, failing open like the others', () => {
    const [blackout, policy] = validating?.webhooks ?? [];
    expect(policy?.name).toBe('policy.rollguard.io');
    expect(policy?.failurePolicy).toBe('Ignore');
    expect(policy?.namespaceSelector).toEqual(blackout?.namespaceSelector);
    expect(policy?.clientConfig.service.path).toBe('/validate');
    expect(policy?.rules).toEqual([
      { apiGroups: ['rollguard.io'], apiVersions: ['v1alpha1'], resources: ['clusterrollbackpolicies'], operations: ['CREATE', 'UPDATE'], scope: 'Cluster' },
      { apiGroups: ['rollguard.io'], apiVersions: ['v1alpha1'], resources: ['rollbackpolicies'], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' },
    ]);
    // The mutating webhook never sees policies: nothing to stamp on them.
    expect(mutating?.webhooks.flatMap((w) => w.rules.flatMap((r) => r.apiGroups))).not.toContain('rollguard.io');
  });
});
