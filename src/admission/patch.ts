import { escapePathComponent, type Operation } from 'fast-json-patch';

// JSON patch ops that turn the annotations of the object as received into the wanted ones. Only
// /metadata/annotations is ever touched (never managedFields); keys are escaped ("/" → "~1"), so
// rollguard.io/x becomes /metadata/annotations/rollguard.io~1x. Equal in, empty out: idempotent.

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The string annotations of an object as received; non-string values (invalid anyway) are ignored. */
export function readAnnotations(object: Record<string, unknown> | null | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const meta = object?.metadata;
  if (!isRecord(meta) || !isRecord(meta.annotations)) return out;
  for (const [key, value] of Object.entries(meta.annotations)) if (typeof value === 'string') out.set(key, value);
  return out;
}

export function annotationPatch(object: Record<string, unknown>, wanted: ReadonlyMap<string, string>): Operation[] {
  const meta = object.metadata;
  // Only where the annotations are written whole: a review's object nearly always has them.
  if (!isRecord(meta)) return wanted.size === 0 ? [] : [{ op: 'add', path: '/metadata', value: { annotations: Object.fromEntries(wanted) } }];
  const current = meta.annotations;
  if (!isRecord(current)) {
    if (wanted.size === 0) return [];
    // add replaces an existing non-object (null) value too.
    return [{ op: 'add', path: '/metadata/annotations', value: Object.fromEntries(wanted) }];
  }
  const ops: Operation[] = [];
  for (const key of Object.keys(current)) {
    if (!wanted.has(key)) ops.push({ op: 'remove', path: `/metadata/annotations/${escapePathComponent(key)}` });
  }
  for (const [key, v] of wanted) {
    if (!Object.hasOwn(current, key)) ops.push({ op: 'add', path: `/metadata/annotations/${escapePathComponent(key)}`, value: v });
    else if (current[key] !== v) ops.push({ op: 'replace', path: `/metadata/annotations/${escapePathComponent(key)}`, value: v });
  }
  return ops;
}
