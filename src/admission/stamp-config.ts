import { ANNOTATIONS } from '../core/annotations.js';
import { sameJson } from '../core/canonical-json.js';
import { formatInstant } from '../core/duration.js';
import type { StampContext, Stamps } from './stamp-types.js';
import { stampTime } from './stamp-time.js';

// ConfigMap and Secret CREATE/UPDATE: stamp when the content changed; a metadata-only update
// stamps nothing. Secret values are compared here, in memory, and go nowhere else (F3): only the
// fact that they differ leaves this function.

const CONTENT_FIELDS = ['data', 'binaryData', 'stringData', 'immutable'] as const;

export function contentChanged(object: Record<string, unknown>, old: Record<string, unknown>): boolean {
  return CONTENT_FIELDS.some((field) => !sameJson(object[field], old[field]));
}

export function stampConfig(kind: 'ConfigMap' | 'Secret', object: Record<string, unknown>, old: Record<string, unknown> | undefined, name: string, ctx: StampContext): Stamps {
  if (old !== undefined && !contentChanged(object, old)) return { stamps: new Map(), templateChanged: false, summary: 'metadata-only change' };
  const at = stampTime(ctx.requested.get(ANNOTATIONS.contentChangedAt.key), ctx.old.get(ANNOTATIONS.contentChangedAt.key), ctx.now);
  const stamps = new Map([[ANNOTATIONS.contentChangedAt.key, formatInstant(at)]]);
  if (old === undefined) stamps.set(ANNOTATIONS.createdAt.key, formatInstant(at));
  if (!ctx.dryRun && name !== '') {
    const createdAt = old === undefined ? at : undefined;
    ctx.cache.noteAdmitted(ctx.namespace, kind, name, { createdAt, contentChangedAt: at });
  }
  return { stamps, templateChanged: false, summary: old === undefined ? 'created' : 'content changed' };
}
