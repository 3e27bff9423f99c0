import { access } from 'node:fs/promises';
import { DEFAULT_POLICY_SET, loadPolicySet, resolver, type PolicySet } from '../policy/policy-file.js';
import type { Verdict } from '../core/decision-types.js';
import type { Policy } from '../core/policy.js';
import { OpenMetricsFileSource } from '../metrics/openmetrics-file.js';
import { PrometheusSource } from '../metrics/prometheus.js';
import { MetricSourceError, type MetricSource } from '../metrics/source.js';
import type { AuditPolicy } from '../core/audit-policy.js';
import { loadAuditPolicy } from './audit-policy-file.js';
import { auditPolicyCoverage, GUESSED_COVERAGE_NOTE, namespaceCoverage } from './coverage.js';
import { replayDecisions } from './decisions.js';
import { timelineFromAuditLog } from './extract.js';
import type { ProgressSink } from './progress.js';
import { jsonLine, summaryJson, summaryText, textTable, unmatchedServices, type CoverageSummary } from './output.js';
import { buildReportInput } from './report-input.js';
import { writeReport } from '../report/write.js';
import { writeReportIndex, type IndexedReport } from '../report/index-page.js';

// The work of `rollguard replay`: what rollguard would have decided for every deploy in a Kubernetes
// audit log, given the metrics of the time. Reads the log as a stream (plain or gzip, rotated
// files), decides each deploy as of the moment its regression became detectable, and gives the
// output (a row per deploy and a summary, or JSON lines); writes an HTML report per deploy that had
// a regression. It runs in replay-worker.ts's thread; the command (cli/replay.ts) prints its output.

export interface ReplayOptions {
  audit: string[];
  metrics: string;
  policy?: string;
  auditPolicy?: string;
  output: 'text' | 'json';
  report?: string;
  from?: string;
  to?: string;
}

/** Input the user can fix (a file, a time, a policy): the command says why and exits 2. */
export class UsageError extends Error {}

function parseTime(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new UsageError(`${flag} ${JSON.stringify(value)} is not a time; expected RFC 3339, e.g. 2026-03-02T10:00:00Z`);
  return t;
}

/**
 * The metric source for each policy: the cluster default's, and one per distinct `metrics` section
 * of a namespace policy (its own labels or queries), over the same file or Prometheus.
 */
async function metricSources(spec: string, policies: PolicySet): Promise<(policy: Policy) => MetricSource> {
  const token = process.env.PROMETHEUS_BEARER_TOKEN;
  const file = /^https?:\/\//.test(spec) ? undefined : await OpenMetricsFileSource.fromFile(spec, policies.clusterDefault.metrics);
  const make = (metrics: Policy['metrics']): MetricSource =>
    file !== undefined ? file.withMetrics(metrics) : new PrometheusSource({ url: spec, metrics, ...(token ? { bearerToken: token } : {}) });
  const bySection = new Map<string, MetricSource>();
  const sourceFor = (policy: Policy): MetricSource => {
    const key = JSON.stringify(policy.metrics);
    const known = bySection.get(key);
    if (known !== undefined) return known;
    const made = make(policy.metrics);
    bySection.set(key, made);
    return made;
  };
  // Every section is checked before the log is read: a bad one fails now, not halfway through.
  for (const policy of [policies.clusterDefault, ...policies.perNamespace.values()]) sourceFor(policy);
  return sourceFor;
}

/** Replays the log and gives the command's output. */
export async function replayRun(opts: ReplayOptions, progress?: ProgressSink): Promise<string> {
  const from = parseTime('--from', opts.from);
  const to = parseTime('--to', opts.to);
  for (const file of opts.audit) {
    try {
      await access(file);
    } catch {
      throw new UsageError(`cannot read the audit log ${file}; expected a kube-apiserver audit log file (audit.k8s.io/v1 Events, one per line, plain or .gz)`);
    }
  }
  let policies: PolicySet = DEFAULT_POLICY_SET;
  if (opts.policy !== undefined) {
    try {
      policies = await loadPolicySet(opts.policy);
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
  }
  let auditPolicy: AuditPolicy | undefined;
  if (opts.auditPolicy !== undefined) {
    try {
      auditPolicy = await loadAuditPolicy(opts.auditPolicy);
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
  }
  const policyFor = resolver(policies);
  const sourceFor = await metricSources(opts.metrics, policies);
  const source = sourceFor(policies.clusterDefault);
  const timeline = await timelineFromAuditLog(opts.audit, progress === undefined ? {} : { progress });
  const coverage = auditPolicy === undefined ? undefined : auditPolicyCoverage(auditPolicy);
  const replayed = await replayDecisions(timeline, { policyFor, source, sourceFor, from, to, coverage });
  const coverageSummary: CoverageSummary =
    auditPolicy === undefined || opts.auditPolicy === undefined
      ? { source: 'guessed', note: GUESSED_COVERAGE_NOTE }
      : { source: 'audit-policy', file: opts.auditPolicy, namespaces: namespaceCoverage(auditPolicy, replayed.map((r) => r.record.namespace)) };
  const reports: IndexedReport[] = [];
  let reportIndex: string | undefined;
  if (opts.report !== undefined) {
    const command = `rollguard replay --audit ${opts.audit.join(' ')} --metrics ${opts.metrics}${opts.auditPolicy === undefined ? '' : ` --audit-policy ${opts.auditPolicy}`}`;
    for (const r of replayed) {
      if (r.regression.signal === undefined) continue;
      const policy = policyFor(r.record.namespace);
      const input = await buildReportInput(r, timeline.events, sourceFor(policy), policy, command);
      reports.push({ path: await writeReport(opts.report, input, r.record.start), input, deployStart: r.record.start });
    }
    reportIndex = await writeReportIndex(opts.report, reports, command);
  }
  const verdicts: Record<Verdict, number> = { auto: 0, suggest: 0, none: 0 };
  for (const r of replayed) verdicts[r.decision.verdict]++;
  const summary = { deploys: replayed.length, verdicts, stats: timeline.stats, reports: reports.map((r) => r.path), reportIndex, unmatched: unmatchedServices(replayed), coverage: coverageSummary };
  return opts.output === 'json' ? replayed.map((r) => `${jsonLine(r)}\n`).join('') + `${summaryJson(summary)}\n` : `${textTable(replayed)}\n\n${summaryText(summary)}\n`;
}

/** The command's answer: its output, or why the input cannot be replayed (exit 2). */
export type ReplayOutcome = { type: 'output'; text: string } | { type: 'usage'; message: string };

export async function replayOutcome(opts: ReplayOptions, progress?: ProgressSink): Promise<ReplayOutcome> {
  try {
    return { type: 'output', text: await replayRun(opts, progress) };
  } catch (err) {
    if (err instanceof UsageError || err instanceof MetricSourceError) return { type: 'usage', message: err.message };
    throw err;
  }
}
