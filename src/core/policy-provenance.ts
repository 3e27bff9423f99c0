import { formatDuration } from './duration.js';
import { describeRequiredPersistence } from './regression.js';
import type { Policy } from './policy.js';
import { refText } from './policy-objects.js';
import type { Effective, Resolution } from './policy-resolution.js';

// Where each value of the policy governing a namespace comes from (`rollguard inspect`): the first
// layer, most specific first, whose document sets the field; else the built-in default.

export interface PolicyLayer {
  /** e.g. "namespace policy (RollbackPolicy shop/strict)". */
  label: string;
  input: unknown;
}

export interface FieldOrigin {
  field: string;
  value: string;
  from: string;
}

export interface PolicyExplanation {
  /** Which policy governs, in words. */
  governedBy: string;
  fields: FieldOrigin[];
  notes: string[];
}

export const BUILT_IN = 'built-in default';

const duration = (ms: number | undefined): string => (ms === undefined ? 'unset' : formatDuration(ms));

type MetricLabelKey = 'serviceLabel' | 'namespaceLabel' | 'statusLabel' | 'podLabel';

/** The metric labels a policy's preset names (the metrics' conventionFor), to show what "the preset's" is. */
export type PresetLabels = (metrics: Policy['metrics']) => Readonly<Record<MetricLabelKey, string>>;

/** A metric label setting: the preset's when unset (named when known); empty means the metrics have no such label. */
function metricLabel(p: Policy, key: MetricLabelKey, preset: PresetLabels | undefined, none = 'none (match on the service label alone)'): string {
  const label = p.metrics[key];
  if (label === '') return none;
  if (label !== undefined) return label;
  const named = preset?.(p.metrics)[key];
  return named === undefined ? "the preset's" : `the preset's: ${named}`;
}

const FIELDS: readonly { field: string; show: (p: Policy, preset: PresetLabels | undefined) => string }[] = [
  { field: 'mode', show: (p) => p.mode },
  { field: 'windows.onset', show: (p) => duration(p.onsetWindowMs) },
  { field: 'windows.configChange', show: (p) => duration(p.configWindowMs) },
  { field: 'windows.migration', show: (p) => duration(p.migrationWindowMs) },
  { field: 'blackout', show: (p) => duration(p.blackoutMs) },
  { field: 'serviceLabel', show: (p) => p.serviceLabel },
  { field: 'thresholds.errorRate', show: (p) => String(p.thresholds.errorRate) },
  { field: 'thresholds.minRequests', show: (p) => String(p.thresholds.minRequests) },
  { field: 'thresholds.persistence', show: describeRequiredPersistence },
  { field: 'thresholds.significance', show: (p) => String(p.thresholds.significance) },
  { field: 'thresholds.latencyRatio', show: (p) => String(p.thresholds.latencyRatio) },
  { field: 'gitops', show: (p) => p.gitops },
  { field: 'migrationSelectors', show: (p) => (p.migrationSelectors.length === 0 ? 'none' : JSON.stringify(p.migrationSelectors)) },
  { field: 'metrics.preset', show: (p) => p.metrics.preset },
  { field: 'metrics.serviceLabel', show: (p, preset) => metricLabel(p, 'serviceLabel', preset) },
  { field: 'metrics.namespaceLabel', show: (p, preset) => metricLabel(p, 'namespaceLabel', preset) },
  { field: 'metrics.statusLabel', show: (p, preset) => metricLabel(p, 'statusLabel', preset) },
  { field: 'metrics.podLabel', show: (p, preset) => metricLabel(p, 'podLabel', preset, 'none (errors are not traced to revisions)') },
  { field: 'metrics.step', show: (p) => duration(p.metrics.stepMs) },
  { field: 'metrics.baseline', show: (p) => duration(p.metrics.baselineMs) },
];

function sets(input: unknown, field: string): boolean {
  let node: unknown = input;
  for (const part of field.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return false;
    node = (node as Record<string, unknown>)[part];
  }
  return node !== undefined;
}

/** Each main field's value in `policy` and the layer it came from. */
export function fieldOrigins(policy: Policy, layers: readonly PolicyLayer[], preset?: PresetLabels): FieldOrigin[] {
  return FIELDS.map(({ field, show }) => ({ field, value: show(policy, preset), from: layers.find((l) => sets(l.input, field))?.label ?? BUILT_IN }));
}

function describeLevel(e: Effective): string {
  if (e.governedBy === undefined) return 'built-in defaults';
  if (e.generation === undefined) return `${refText(e.governedBy)} (invalid, no valid version known)`;
  return `${refText(e.governedBy)} (generation ${e.generation}${e.lastValid ? ', its last valid version: the current one is invalid' : ''})`;
}

/** The explanation for a namespace from the policy CRDs. */
export function explainResolution(resolution: Resolution, namespace: string, preset?: PresetLabels): PolicyExplanation {
  const ns = resolution.namespaces.get(namespace);
  const cluster = resolution.cluster;
  const effective = ns ?? cluster;
  const layers: PolicyLayer[] = [];
  if (ns?.governedBy !== undefined && ns.input !== undefined) layers.push({ label: `namespace policy (${refText(ns.governedBy)})`, input: ns.input });
  if (cluster.governedBy !== undefined && cluster.input !== undefined) layers.push({ label: `cluster default (${refText(cluster.governedBy)})`, input: cluster.input });
  const governedBy = ns === undefined ? describeLevel(cluster) : `${describeLevel(ns)} over ${describeLevel(cluster)}`;
  if (effective.doubt === undefined) return { governedBy, fields: fieldOrigins(effective.policy, layers, preset), notes: [] };
  const fields = fieldOrigins(effective.policy, layers, preset).map((f) => (f.field === 'mode' ? { ...f, from: `${f.from}, at most suggest (F1)` } : f));
  return { governedBy, fields, notes: [`mode is at most suggest (F1): ${effective.doubt}`] };
}
