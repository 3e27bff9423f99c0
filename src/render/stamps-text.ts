import { ALL_ANNOTATIONS, ANNOTATIONS, PREFIX, type AnnotationKey } from '../core/annotations.js';
import { formatElapsed, parseInstant } from '../core/duration.js';
import type { KubeObject } from '../core/kube.js';

// What `rollguard inspect` shows for one object: every rollguard.io/ key it carries with its
// meaning, the eligibility and blackout read from them, and what is missing.

export interface StampReport {
  kind: string;
  namespace: string;
  name: string;
  stamps: { key: string; value: string; description: string | undefined }[];
  /** Keys rollguard stamps on this kind that the object does not carry. */
  missing: string[];
  eligibility: string | undefined;
  reasons: string[];
  blackout: { until: string; active: boolean; remaining: string | undefined } | undefined;
  verdictHint: string;
}

const KNOWN = new Map(ALL_ANNOTATIONS.map((a) => [a.key, a]));

function parseReasons(text: string | undefined): string[] {
  if (text === undefined) return [];
  try {
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value)) return value.map(String);
  } catch {
    // Older or hand-written values may be plain text.
  }
  return [text];
}

function stampedOn(kind: string): AnnotationKey[] {
  return ALL_ANNOTATIONS.filter((a) => a.writer === 'rollguard' && (a.on as readonly string[]).includes(kind));
}

// Keys stamped at admission of every change (the others appear only after a rollback).
const ADMISSION_STAMPS = new Set<string>([
  ANNOTATIONS.templateChangedAt.key,
  ANNOTATIONS.templateHash.key,
  ANNOTATIONS.changeSet.key,
  ANNOTATIONS.eligibility.key,
  ANNOTATIONS.contentChangedAt.key,
  ANNOTATIONS.admittedAt.key,
  ANNOTATIONS.migrationDetected.key,
]);

export function stampReport(obj: KubeObject, now: number): StampReport {
  const kind = obj.kind ?? 'Object';
  const annotations = obj.metadata?.annotations ?? {};
  const labels = obj.metadata?.labels ?? {};
  const stamps = Object.entries({ ...labels, ...annotations })
    .filter(([k]) => k.startsWith(PREFIX))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => ({ key, value, description: KNOWN.get(key)?.description }));
  const missing = stampedOn(kind)
    .filter((a) => ADMISSION_STAMPS.has(a.key) && annotations[a.key] === undefined)
    .map((a) => a.key);
  const untilText = annotations[ANNOTATIONS.blackoutUntil.key];
  const until = parseInstant(untilText);
  const blackout =
    untilText === undefined || until === undefined
      ? undefined
      : { until: untilText, active: until > now, remaining: until > now ? formatElapsed(until - now) : undefined };
  const eligibility = annotations[ANNOTATIONS.eligibility.key];
  const reasons = parseReasons(annotations[ANNOTATIONS.eligibilityReasons.key]);
  let verdictHint: string;
  if (missing.length > 0 && stampedOn(kind).length > 0) {
    verdictHint = `not stamped by rollguard (${missing.join(', ')} missing): admitted while the webhook was down or before it was installed, so its changes are unknown and never lead to auto (F1)`;
  } else if (blackout?.active) {
    verdictHint = `in blackout for ${blackout.remaining ?? ''} more: no re-evaluation and no second rollback`;
  } else if (eligibility !== undefined) {
    verdictHint = eligibility === 'eligible' ? 'eligible at admission: an automatic rollback is possible if a clean regression follows' : 'a human is required for any rollback of this deploy';
  } else {
    verdictHint = 'no eligibility recorded';
  }
  return { kind, namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '', stamps, missing, eligibility, reasons, blackout, verdictHint };
}

export function renderStampReport(r: StampReport): string {
  const lines = [`${r.kind} ${r.namespace}/${r.name}: ${r.verdictHint}`];
  if (r.stamps.length === 0) lines.push('  no rollguard.io/ keys');
  const width = Math.max(0, ...r.stamps.map((s) => s.key.length));
  for (const s of r.stamps) {
    lines.push(`  ${s.key.padEnd(width)}  ${s.value}`);
    lines.push(`  ${''.padEnd(width)}  ${s.description ?? '(not a key rollguard knows: a typo, or from a newer version)'}`);
  }
  if (r.reasons.length > 0) lines.push('  why a human is required:', ...r.reasons.map((x) => `    - ${x}`));
  return lines.join('\n');
}

export function renderKeyReference(): string {
  const width = Math.max(...ALL_ANNOTATIONS.map((a) => a.key.length));
  return ALL_ANNOTATIONS.map((a) => `${a.key.padEnd(width)}  ${a.on.join(',').padEnd(26)} ${a.writer.padEnd(9)} ${a.description}`).join('\n');
}
