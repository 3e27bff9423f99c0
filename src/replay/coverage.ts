import { decisionCoverage, policyCoverage, type CoverageArea, type CoverageObject, type PolicyCoverage } from '../core/audit-coverage.js';
import type { AuditPolicy } from '../core/audit-policy.js';
import type { Coverage, DecisionInput } from '../core/decision-types.js';
import { formatDuration, formatInstant } from '../core/duration.js';
import type { Policy } from '../core/policy.js';
import { patchedDiff } from '../core/before-state.js';
import { templateRefs } from '../core/template-refs.js';
import type { TimelineResource } from '../timeline/audit-record.js';
import type { DeployRecord } from '../timeline/deploys.js';

// What the audit log can tell about a deploy's namespace (F1): from the cluster's audit policy
// (`--audit-policy`), exactly, naming the rule; without it, guessed from what the log mentions at
// all (a resource it never mentions is probably left out by the policy).

export interface DeployCoverage {
  coverage: DecisionInput['coverage'];
  /** Facts that keep the decision from `auto` (F1), e.g. Deployment writes the policy drops. */
  doubts: string[];
}

export type CoverageSource = (record: DeployRecord) => DeployCoverage;

const ADVICE = '--audit-policy FILE (the file given to kube-apiserver --audit-policy-file) makes this exact';

/** A patch wrote what decides which ConfigMaps/Secrets the old template read: it may have read any. */
function oldRefsHidden(record: DeployRecord): boolean {
  const known = record.beforeKnown;
  return record.before === undefined && record.after !== undefined && known.how === 'patch' && patchedDiff(record.after, known.touched).refsHidden.length > 0;
}

function referencedObjects(record: DeployRecord): CoverageObject[] {
  if (oldRefsHidden(record)) return [{ resource: 'configmaps', name: undefined }, { resource: 'secrets', name: undefined }];
  const refs = [record.before, record.after].flatMap((d) => templateRefs(d?.spec?.template).all);
  const seen = new Map<string, CoverageObject>();
  for (const r of refs) {
    const resource = r.kind === 'ConfigMap' ? 'configmaps' : 'secrets';
    seen.set(`${resource}/${r.name}`, { resource, name: r.name });
  }
  return [...seen.values()];
}

/** Today's inference: config changes are known only if the log records every kind the templates read; Jobs only if it records Jobs at all. */
export function guessedCoverage(observed: readonly TimelineResource[]): CoverageSource {
  const missing = (kind: string) => `the log holds no record of ${kind} at all: the audit policy probably leaves them out (${ADVICE})`;
  return (record) => {
    const absent = [...new Set(referencedObjects(record).map((o) => o.resource))].filter((r) => !observed.includes(r));
    const config = absent.length === 0 ? true : { known: false, evidence: absent.map((r) => missing(r === 'configmaps' ? 'ConfigMaps' : 'Secrets')).join('; ') };
    const jobs = observed.includes('jobs') ? true : { known: false, evidence: missing('Jobs') };
    return { coverage: { config, jobs }, doubts: [] };
  };
}

/** Exact coverage from the cluster's audit policy, for the objects each deploy depends on. */
export function auditPolicyCoverage(policy: AuditPolicy): CoverageSource {
  return (record) => decisionCoverage(policy, record, referencedObjects(record));
}

/** For the summary: per namespace and area, what the policy logs, with every name (not only those a template reads). */
export function namespaceCoverage(policy: AuditPolicy, namespaces: readonly string[]): PolicyCoverage[] {
  const areas: CoverageArea[] = ['deployments', 'config', 'jobs'];
  return [...new Set(namespaces)].sort().flatMap((ns) => areas.map((area) => policyCoverage(policy, area, ns)));
}

export const GUESSED_COVERAGE_NOTE = `coverage: guessed from what the log mentions (a resource it never mentions is taken as left out by the audit policy); ${ADVICE}`;

/**
 * F1: the log tells nothing before its first record. A deploy whose config or migration window
 * begins before the log does cannot know the changes before it, whatever the audit policy logs.
 * (A log that ends before the decision time is not caught here: the span only counts records that
 * mention the tracked resources, so its end would be guessed short.)
 */
export function withinLogSpan(c: DeployCoverage, span: { first: number; last: number } | undefined, record: DeployRecord, policy: Policy): DeployCoverage {
  const gap = (windowMs: number, what: string): string | undefined => {
    if (span === undefined) return `the audit log holds no record: no ${what} are in it`;
    const from = record.start - windowMs;
    if (span.first > from) return `the audit log starts at ${formatInstant(span.first)}, later than ${formatDuration(windowMs)} before the deploy (${formatInstant(from)}): earlier ${what} are not in it`;
    return undefined;
  };
  const limit = (current: Coverage, windowMs: number, what: string): Coverage => {
    const why = gap(windowMs, what);
    return why === undefined || current === false || (typeof current === 'object' && !current.known) ? current : { known: false, evidence: why };
  };
  return {
    // A template that reads no ConfigMap or Secret does not depend on config changes at all.
    coverage: { config: referencedObjects(record).length === 0 ? c.coverage.config : limit(c.coverage.config, policy.configWindowMs, 'ConfigMap and Secret changes'), jobs: limit(c.coverage.jobs, policy.migrationWindowMs, 'Jobs') },
    doubts: c.doubts,
  };
}
