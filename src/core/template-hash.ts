import { hash } from 'node:crypto';
import { canonicalJson, sameJson } from './canonical-json.js';
import { formatInstant, parseInstant } from './duration.js';
import type { PodTemplateSpec } from './kube.js';

// A canonical hash of a pod template, and the bounded history of recent ones stamped on a
// Deployment. A template that returns to an earlier hash is a rollback (R8), whoever made it.

/** Added by the Deployment controller to ReplicaSet templates; `kubectl rollout undo` strips it. */
const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

export const TEMPLATE_HISTORY_LIMIT = 10;

export interface TemplateHistoryEntry {
  hash: string;
  /** When rollguard admitted this template (epoch ms); undefined for one seen before rollguard stamped it. */
  at: number | undefined;
}

function withoutControllerLabel(template: PodTemplateSpec | undefined): PodTemplateSpec | undefined {
  const labels = template?.metadata?.labels;
  if (template === undefined || labels === undefined || !Object.hasOwn(labels, POD_TEMPLATE_HASH_LABEL)) return template;
  const kept = Object.fromEntries(Object.entries(labels).filter(([k]) => k !== POD_TEMPLATE_HASH_LABEL));
  return { ...template, metadata: { ...template.metadata, labels: kept } };
}

/** sha256 of the template's canonical JSON (key order does not matter), first 80 bits, as "sha256:<hex>". */
export function templateHash(template: PodTemplateSpec | undefined): string {
  const digest = hash('sha256', canonicalJson(withoutControllerLabel(template) ?? null), 'hex');
  return `sha256:${digest.slice(0, 20)}`;
}

/**
 * Whether the two templates hash the same, decided without hashing: structurally, the first
 * difference answers. Most Deployment updates (scaling, labels, a controller's write) leave the
 * template alone, and this costs a fraction of the two hashes that would tell the same.
 */
export function sameTemplate(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return sameJson(withoutControllerLabel(a) ?? null, withoutControllerLabel(b) ?? null);
}

/** Reads the history annotation. Anything malformed reads as an empty history rather than an error. */
export function parseTemplateHistory(text: string | undefined): TemplateHistoryEntry[] {
  if (text === undefined) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  const out: TemplateHistoryEntry[] = [];
  for (const item of raw as unknown[]) {
    if (item === null || typeof item !== 'object') continue;
    const { hash, at } = item as { hash?: unknown; at?: unknown };
    if (typeof hash !== 'string' || hash === '') continue;
    out.push({ hash, at: parseInstant(typeof at === 'string' ? at : undefined) });
  }
  return out.slice(0, TEMPLATE_HISTORY_LIMIT);
}

export function formatTemplateHistory(history: readonly TemplateHistoryEntry[]): string {
  return JSON.stringify(history.map((e) => ({ hash: e.hash, at: e.at === undefined ? null : formatInstant(e.at) })));
}

/**
 * The history after admitting `entry`, newest first, each hash once, at most TEMPLATE_HISTORY_LIMIT.
 * `current` (the template being replaced) is kept when the old history does not list it yet, so a
 * rollback to the template from before rollguard was installed is still recognized.
 */
export function pushTemplateHistory(history: readonly TemplateHistoryEntry[], current: TemplateHistoryEntry | undefined, entry: TemplateHistoryEntry): TemplateHistoryEntry[] {
  const base = current !== undefined && !history.some((e) => e.hash === current.hash) ? [current, ...history] : [...history];
  return [entry, ...base.filter((e) => e.hash !== entry.hash)].slice(0, TEMPLATE_HISTORY_LIMIT);
}

/** The earlier admission of `hash`, when a template change returns to it (a rollback); undefined otherwise. */
export function earlierRevision(history: readonly TemplateHistoryEntry[], oldHash: string, newHash: string): TemplateHistoryEntry | undefined {
  if (oldHash === newHash) return undefined;
  return history.find((e) => e.hash === newHash);
}
