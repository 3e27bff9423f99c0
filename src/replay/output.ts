import type { PolicyCoverage } from '../core/audit-coverage.js';
import { formatInstant } from '../core/duration.js';
import { noMatchEvidence } from '../core/metric-match.js';
import { CONDITION_KEYS, type Verdict } from '../core/decision-types.js';
import { CONDITION_HEADER, CONDITION_LEGEND, conditionMarks, shortReason, WHY_WIDTH } from '../render/decision-text.js';
import { SKIP_REASONS, type SkipReason } from '../timeline/audit-event.js';
import type { AuditReadStats } from './audit-reader.js';
import type { ReplayedDeploy } from './decisions.js';

// How `rollguard replay` prints its result: a table row per deploy and a summary, or one JSON
// object per line per deploy and a final summary object.

/** Where the coverage of the decisions came from: the cluster's audit policy, or a guess. */
export type CoverageSummary = { source: 'guessed'; note: string } | { source: 'audit-policy'; file: string; namespaces: PolicyCoverage[] };

export interface ReplaySummary {
  deploys: number;
  verdicts: Record<Verdict, number>;
  stats: AuditReadStats;
  reports: string[];
  /** The index page linking every report, when --report was given. */
  reportIndex?: string | undefined;
  coverage: CoverageSummary;
  /** Each (namespace, service) whose metric selector matched nothing, once (R5: never silent). */
  unmatched: UnmatchedService[];
}

export interface UnmatchedService {
  namespace: string;
  service: string;
  selector: string;
  /** What matched nothing, what the source holds instead, and how to fix the policy. */
  evidence: string;
}

/** The services whose selector matched nothing, once each, in the order of their first deploy. */
export function unmatchedServices(rows: readonly ReplayedDeploy[]): UnmatchedService[] {
  const out = new Map<string, UnmatchedService>();
  for (const r of rows) {
    const m = r.match;
    const key = `${r.record.namespace}/${r.service}`;
    if (m?.kind !== 'none' || out.has(key)) continue;
    out.set(key, { namespace: r.record.namespace, service: r.service, selector: m.selector, evidence: noMatchEvidence(m) });
  }
  return [...out.values()];
}

const iso = (t: number | undefined): string | null => (t === undefined ? null : formatInstant(t));

export function jsonLine(r: ReplayedDeploy): string {
  const d = r.decision;
  return JSON.stringify({
    namespace: d.namespace,
    deployment: d.deployment,
    service: d.service,
    deployStart: iso(r.record.start),
    deployComplete: iso(r.record.completeAt !== undefined && r.record.completeAt <= r.decidedAt ? r.record.completeAt : undefined),
    decidedAt: iso(r.decidedAt),
    detectedAt: iso(r.detectedAt),
    onset: iso(r.regression.onset),
    verdict: d.verdict,
    conditions: Object.fromEntries(CONDITION_KEYS.map((k) => [k, d.conditions[k]])),
    confidence: Number(d.confidence.toFixed(3)),
    command: d.command ?? null,
    revision: r.record.revision,
    templateChange: r.record.templateChange,
    rollback: r.record.rollback ?? null,
    user: r.record.user ?? null,
    summary: d.summary,
  });
}

export function summaryJson(s: ReplaySummary): string {
  return JSON.stringify({
    summary: true,
    deploys: s.deploys,
    ...s.verdicts,
    lines: s.stats.lines,
    used: s.stats.used,
    irrelevant: s.stats.irrelevant,
    skipped: s.stats.skipped,
    truncatedFiles: s.stats.files.filter((f) => f.truncated !== undefined).map((f) => ({ path: f.path, reason: f.truncated })),
    reports: s.reports,
    reportIndex: s.reportIndex ?? null,
    unmatchedMetrics: s.unmatched,
    coverage:
      s.coverage.source === 'guessed'
        ? s.coverage
        : {
            source: s.coverage.source,
            file: s.coverage.file,
            namespaces: s.coverage.namespaces.map((c) => ({ namespace: c.namespace, area: c.area, known: c.known, level: c.level ?? null, rules: c.rules, evidence: c.evidence, fix: c.fix?.text ?? null })),
          },
  });
}

/** No command where there is nothing to act on: a rollback command on a `none` row reads like advice. */
function commandColumn(r: ReplayedDeploy): string {
  return r.decision.verdict === 'none' ? '-' : (r.decision.command ?? '-');
}

export function textTable(rows: readonly ReplayedDeploy[]): string {
  // A template change that put an earlier template back is marked, so the row after a regression reads as its rollback.
  const name = (r: ReplayedDeploy) => `${r.decision.namespace}/${r.decision.deployment}${r.record.rollback ? ' (rollback)' : ''}`;
  const width = Math.max(10, ...rows.map((r) => name(r).length));
  const header = `${'deployment'.padEnd(width)}  ${'deploy start'.padEnd(20)}  ${'decided at'.padEnd(20)}  verdict  ${CONDITION_HEADER}  conf  ${'why'.padEnd(WHY_WIDTH)}  command`;
  const lines = rows.map(
    (r) =>
      `${name(r).padEnd(width)}  ${(iso(r.record.start) ?? '').padEnd(20)}  ${(iso(r.decidedAt) ?? '').padEnd(20)}  ${r.decision.verdict.padEnd(7)}  ${conditionMarks(r.decision)}  ${r.decision.confidence.toFixed(2)}  ${shortReason(r.decision).padEnd(WHY_WIDTH)}  ${commandColumn(r)}`,
  );
  return [header, ...lines, '', CONDITION_LEGEND].join('\n');
}

export function summaryText(s: ReplaySummary): string {
  const skipped = Object.entries(s.stats.skipped) as [SkipReason, number][];
  const lines = [
    `${s.deploys} deploys: ${s.verdicts.auto} auto, ${s.verdicts.suggest} suggest, ${s.verdicts.none} none`,
    `audit log: ${s.stats.lines.toLocaleString('en-US')} lines in ${s.stats.files.length} file(s), ${s.stats.used.toLocaleString('en-US')} used, ${s.stats.irrelevant.toLocaleString('en-US')} about other resources or reads`,
  ];
  if (skipped.length > 0) lines.push(`lines skipped: ${skipped.map(([reason, n]) => `${n.toLocaleString('en-US')} ${SKIP_REASONS[reason]}`).join('; ')}`);
  for (const f of s.stats.files) if (f.truncated !== undefined) lines.push(`  ${f.path}: read up to the damage (${f.truncated})`);
  if (s.unmatched.length > 0) {
    lines.push(`metrics: the selector matched nothing for ${s.unmatched.length} service(s); their deploys have no signal (not "no regression"):`);
    for (const u of s.unmatched) lines.push(`  ${u.namespace}/${u.service}: ${u.evidence}`);
  }
  // One path, not one per report: a long run writes dozens.
  if (s.reportIndex !== undefined) lines.push(`reports: ${s.reports.length} written; open ${s.reportIndex}`);
  lines.push(...coverageText(s.coverage));
  return lines.join('\n');
}

const AREA_NAMES: Record<PolicyCoverage['area'], string> = { deployments: 'Deployment', config: 'ConfigMap and Secret', jobs: 'Job' };

function coverageText(c: CoverageSummary): string[] {
  if (c.source === 'guessed') return [c.note];
  const namespaces = [...new Set(c.namespaces.map((n) => n.namespace))];
  const gaps = c.namespaces.filter((n) => !n.known);
  const full = namespaces.filter((ns) => !gaps.some((g) => g.namespace === ns));
  const lines = [
    `coverage: from the audit policy ${c.file}: every Deployment, ConfigMap, Secret and Job write is logged in ${full.length === namespaces.length ? `all ${full.length}` : `${full.length} of ${namespaces.length}`} namespace(s) with deploys${full.length > 0 && full.length <= 6 ? ` (${full.join(', ')})` : ''}`,
  ];
  // The same gap in many namespaces (a rule without namespaces) is printed once.
  const groups = new Map<string, { gap: PolicyCoverage; namespaces: string[] }>();
  for (const g of gaps) {
    const key = `${g.area}\u0000${g.gap}\u0000${g.fix?.text ?? ''}`;
    const group = groups.get(key) ?? { gap: g, namespaces: [] };
    group.namespaces.push(g.namespace);
    groups.set(key, group);
  }
  for (const { gap: g, namespaces: where } of groups.values()) {
    const scope = where.length === 1 ? where[0] : where.length === namespaces.length ? `all ${where.length} namespaces` : `${where.length} namespaces (${where.join(', ')})`;
    lines.push(`  ${scope}: ${AREA_NAMES[g.area]} writes not all logged: ${g.gap}`);
    if (g.area === 'config') lines.push('    (a deploy is affected only by the ConfigMaps and Secrets its templates read)');
    if (g.fix?.rule !== undefined) lines.push(`    to cover them, add this rule ${g.fix.where ?? ''}:`, ...g.fix.rule.split('\n').map((l) => `      ${l}`));
    else if (g.fix !== undefined) lines.push(`    to cover them: ${g.fix.text}`);
  }
  return lines;
}
