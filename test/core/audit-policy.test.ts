import { describe, expect, it } from 'vitest';
import { policyCoverage } from '../../src/core/audit-coverage.js';
import { auditOutcomes, evaluateAuditPolicy, type AuditRequest } from '../../src/core/audit-policy.js';
import { auditPolicy, auditPolicyFixture } from '../support/audit-policy.js';

// The audit policy evaluated as kube-apiserver evaluates it (checker.go), and what it means for
// the writes rollguard has to see (F1: a write that can escape the log is a change not known).

const request = (over: Partial<AuditRequest>): AuditRequest => ({
  namespace: 'shop',
  group: '',
  resource: 'configmaps',
  subresource: undefined,
  verb: 'update',
  name: 'app-config',
  user: 'alice',
  groups: ['system:authenticated'],
  ...over,
});

describe('audit policy evaluation as kube-apiserver does it', () => {
  const docs = auditPolicyFixture('k8s-docs-example.yaml');

  it('the first matching rule decides; no matching rule is level None', () => {
    const p = auditPolicy(`
  - level: Metadata
    resources: [{group: "", resources: [configmaps]}]
  - level: RequestResponse
    resources: [{group: "", resources: [configmaps, secrets]}]
`);
    expect(evaluateAuditPolicy(p, request({}))).toMatchObject({ rule: 1, level: 'Metadata', logged: true });
    expect(evaluateAuditPolicy(p, request({ resource: 'secrets' }))).toMatchObject({ rule: 2, level: 'RequestResponse' });
    expect(evaluateAuditPolicy(p, request({ group: 'batch', resource: 'jobs' }))).toMatchObject({ rule: undefined, level: 'None', logged: false });
  });

  it('the documentation example: its rules in order, the policy omitStages added to every rule', () => {
    expect(evaluateAuditPolicy(docs, request({ resource: 'pods', name: 'p' }))).toMatchObject({ rule: 1, level: 'RequestResponse' });
    expect(evaluateAuditPolicy(docs, request({ resource: 'pods', subresource: 'status', name: 'p' }))).toMatchObject({ rule: 2, level: 'Metadata' });
    expect(evaluateAuditPolicy(docs, request({ name: 'controller-leader' }))).toMatchObject({ rule: 3, level: 'None', logged: false });
    // A create names no object in its URL, so resourceNames never match it.
    expect(evaluateAuditPolicy(docs, request({ verb: 'create', name: '' }))).toMatchObject({ rule: 7, level: 'Metadata' });
    expect(evaluateAuditPolicy(docs, request({ namespace: 'kube-system' }))).toMatchObject({ rule: 6, level: 'Request' });
    expect(evaluateAuditPolicy(docs, request({ resource: 'secrets' }))).toMatchObject({ rule: 7, level: 'Metadata' });
    expect(evaluateAuditPolicy(docs, request({ resource: 'services' }))).toMatchObject({ rule: 8, level: 'Request' });
    const deployment = evaluateAuditPolicy(docs, request({ group: 'apps', resource: 'deployments', subresource: 'status' }));
    expect(deployment).toMatchObject({ rule: 9, level: 'Metadata', logged: true });
    expect([...deployment.omitStages]).toEqual(['RequestReceived']);
  });

  it('F1: the documentation example drops writes to ConfigMap controller-leader in every namespace, and logs Jobs without their spec', () => {
    const config = policyCoverage(docs, 'config', 'shop');
    expect(config.known).toBe(false);
    expect(config.drops.map((d) => d.rule)).toEqual([3, 3, 3]);
    expect(config.evidence).toBe(
      'the audit policy leaves some ConfigMap and Secret writes in shop out of the log: update of ConfigMap controller-leader (rule 3 logs it at level None), patch of ConfigMap controller-leader (rule 3 logs it at level None) and 1 more',
    );
    // A template that reads other ConfigMaps is not concerned.
    const named = policyCoverage(docs, 'config', 'shop', [{ resource: 'configmaps', name: 'app-config' }, { resource: 'secrets', name: 'db' }]);
    expect(named).toMatchObject({ known: true, level: 'Metadata', rules: [7] });
    expect(named.evidence).toBe('the audit policy logs every ConfigMap app-config and Secret db write in shop at Metadata (rule 7)');
    expect(policyCoverage(docs, 'deployments', 'shop')).toMatchObject({ known: true, level: 'Metadata', rules: [9] });
    const jobs = policyCoverage(docs, 'jobs', 'shop');
    expect(jobs.known).toBe(false);
    expect(jobs.evidence).toContain('create of Job (rule 9 logs it at Metadata, without the object; Request or above shows what it runs)');
    expect(jobs.fix?.text).toBe('add a rule `- level: RequestResponse\n  resources: [{group: "batch", resources: [jobs, jobs/status]}]` before rule 9');
  });

  it('F1: a rule that drops writes of some users leaves the area uncovered, naming the rule and the users', () => {
    const p = auditPolicy(`
  - level: None
    users: [system:serviceaccount:ci:deployer]
    resources: [{group: "", resources: [configmaps]}]
  - level: Metadata
`);
    const c = policyCoverage(p, 'config', 'shop');
    expect(c.known).toBe(false);
    expect(c.drops.every((d) => d.rule === 1 && d.what.includes('by user system:serviceaccount:ci:deployer'))).toBe(true);
    expect(c.drops.map((d) => d.what.split(' ')[0])).toEqual(['create', 'update', 'patch', 'delete', 'deletecollection']);
    expect(c.fix?.text).toBe('add a rule `- level: Request\n  resources: [{group: "", resources: [configmaps]}]` before rule 1');
  });

  it('F1: logging only some users or groups drops everyone else; both base groups together cover everyone', () => {
    const onlyAlice = auditPolicy(`
  - level: RequestResponse
    users: [alice]
    resources: [{group: "", resources: [configmaps]}]
  - level: None
    resources: [{group: "", resources: [configmaps]}]
  - level: Metadata
`);
    const c = policyCoverage(onlyAlice, 'config', 'shop', [{ resource: 'configmaps', name: 'app-config' }]);
    expect(c.known).toBe(false);
    expect(c.drops[0]).toMatchObject({ rule: 2, why: 'rule 2 logs it at level None' });
    const authenticated = auditPolicy(`
  - level: Metadata
    userGroups: [system:authenticated]
`);
    const anonymous = policyCoverage(authenticated, 'config', 'shop');
    expect(anonymous.known).toBe(false);
    expect(anonymous.drops[0]).toMatchObject({ rule: undefined, what: 'create of ConfigMap by group system:unauthenticated', why: 'no rule matches it (level None)' });
    expect(anonymous.fix?.text).toContain('at the end of the rules');
    const everyone = auditPolicy(`
  - level: RequestResponse
    users: [alice]
  - level: Metadata
    userGroups: [system:authenticated, system:unauthenticated]
`);
    const both = policyCoverage(everyone, 'config', 'shop');
    expect(both).toMatchObject({ known: true, level: 'Metadata', rules: [1, 2] });
    expect(both.evidence).toBe('the audit policy logs every ConfigMap and Secret write in shop at Metadata or above (rules 1, 2)');
  });

  it('F1: a group rule shadowed by a user rule is exact: only what some request can reach counts', () => {
    const p = auditPolicy(`
  - level: Metadata
  - level: None
    users: [bob]
`);
    expect(policyCoverage(p, 'config', 'shop')).toMatchObject({ known: true, rules: [1] });
    expect(auditOutcomes(p, { namespace: 'shop', group: '', resource: 'configmaps', subresource: undefined, verb: 'update', name: undefined }).map((o) => o.rule)).toEqual([1]);
  });

  it('F1: omitStages: ResponseComplete omitted by a rule or by the policy drops the write; RequestReceived does not', () => {
    const byRule = auditPolicy(`
  - level: Metadata
    omitStages: [ResponseComplete]
    resources: [{group: "", resources: [secrets]}]
  - level: Metadata
`);
    const c = policyCoverage(byRule, 'config', 'shop');
    expect(c.known).toBe(false);
    expect(c.drops[0]).toMatchObject({ rule: 1, why: 'rule 1 omits stage ResponseComplete' });
    expect(c.drops.every((d) => d.what.includes('Secret'))).toBe(true);
    expect(c.fix?.text).toBe('add a rule `- level: Metadata\n  resources: [{group: "", resources: [secrets]}]` before rule 1');
    const byPolicy = auditPolicy('  - level: Metadata\n', 'omitStages: [RequestReceived, ResponseComplete]\n');
    const p = policyCoverage(byPolicy, 'jobs', 'shop');
    expect(p.known).toBe(false);
    expect(p.fix?.text).toBe("remove ResponseComplete from the policy's omitStages");
    expect(policyCoverage(auditPolicy('  - level: RequestResponse\n', 'omitStages: [RequestReceived]\n'), 'jobs', 'shop').known).toBe(true);
  });

  it('F1: namespaces: a rule for one namespace decides only there; "" is cluster-scoped only', () => {
    const p = auditPolicy(`
  - level: None
    namespaces: [shop]
    resources: [{group: "", resources: [configmaps, secrets]}]
  - level: Metadata
    namespaces: [""]
  - level: Metadata
    namespaces: [billing]
`);
    expect(policyCoverage(p, 'config', 'shop').known).toBe(false);
    expect(policyCoverage(p, 'config', 'billing')).toMatchObject({ known: true, rules: [3] });
    expect(policyCoverage(p, 'config', 'search').drops[0]?.rule).toBeUndefined();
  });

  it('F1: subresources: "deployments" alone misses deployments/status; "*", "*/status" and "deployments/*" reach it', () => {
    const plain = auditPolicy(`
  - level: RequestResponse
    resources: [{group: apps, resources: [deployments]}]
`);
    const c = policyCoverage(plain, 'deployments', 'shop');
    expect(c.known).toBe(false);
    expect(c.drops.map((d) => d.what)).toEqual(['update of Deployment status', 'patch of Deployment status']);
    for (const resources of ['["*"]', '["deployments", "*/status"]', '["deployments/*"]']) {
      const p = auditPolicy(`
  - level: RequestResponse
    resources: [{group: apps, resources: ${resources}}]
`);
      expect(policyCoverage(p, 'deployments', 'shop'), resources).toMatchObject({ known: true, level: 'RequestResponse' });
    }
    // The group must match exactly: Deployments are in apps, not the core group.
    expect(policyCoverage(auditPolicy('  - level: Metadata\n    resources: [{group: "", resources: ["*"]}]\n'), 'deployments', 'shop').known).toBe(false);
    // A group without resources listed means every resource of it.
    expect(policyCoverage(auditPolicy('  - level: Metadata\n    resources: [{group: apps}]\n'), 'deployments', 'shop').known).toBe(true);
  });

  it('F1: verbs: a rule for create/update/patch/delete leaves deletecollection to the rules after it', () => {
    const p = auditPolicy(`
  - level: Request
    verbs: [create, update, patch, delete]
    resources: [{group: "", resources: [configmaps, secrets]}]
`);
    const c = policyCoverage(p, 'config', 'shop');
    expect(c.drops.map((d) => d.what)).toEqual(['deletecollection of ConfigMap', 'deletecollection of Secret']);
    expect(c.fix?.text).toBe('add a rule `- level: Metadata\n  resources: [{group: "", resources: [configmaps, secrets]}]` at the end of the rules');
  });

  it('F1: a rule about non-resource URLs only never decides a resource write', () => {
    const p = auditPolicy(`
  - level: None
    nonResourceURLs: ["*"]
  - level: Metadata
`);
    expect(policyCoverage(p, 'jobs', 'shop').known).toBe(false); // Metadata: what a Job runs is not known
    expect(policyCoverage(p, 'config', 'shop')).toMatchObject({ known: true, rules: [2] });
  });

  it('F1: resourceNames drop only the named objects, and never a create', () => {
    const p = auditPolicy(`
  - level: None
    resources: [{group: "", resources: [secrets], resourceNames: [db]}]
  - level: Metadata
`);
    expect(policyCoverage(p, 'config', 'shop', [{ resource: 'secrets', name: 'other' }]).known).toBe(true);
    const db = policyCoverage(p, 'config', 'shop', [{ resource: 'secrets', name: 'db' }]);
    expect(db.drops.map((d) => d.what)).toEqual(['update of Secret db', 'patch of Secret db', 'delete of Secret db']);
  });
});
