import type { PatchedPath, PatchType } from '../core/before-state.js';
import type { Deployment } from '../core/kube.js';

// Which fields a patch wrote, read from the body an audit record holds. The record does not name the
// patch type, so it is inferred: a list is a JSON patch (RFC 6902); `$patch`, `$setElementOrder/`,
// `$retainKeys` or `$deleteFromPrimitiveList/` mean strategic merge; an object naming apiVersion,
// kind and metadata.name (or a request with `force=`, which only apply takes) is server-side apply,
// whose body is the manager's whole intent, not a diff. Any other object may be a merge or a
// strategic merge patch: its lists are taken as replaced whole, which covers both.

export type PatchShape =
  | { type: PatchType; touched: PatchedPath[] }
  /** Server-side apply: a field the manager stopped naming may have been removed, so untouched is not unchanged. */
  | { type: 'apply' }
  | { type: 'unreadable' };

/** The merge key of each strategic-merge list in a Deployment that has one; other lists are replaced whole. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  resourceClaims: 'name',
};

const SET_ORDER = '$setElementOrder/';
const DELETE_FROM = '$deleteFromPrimitiveList/';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasDirective(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasDirective);
  if (!isRecord(value)) return false;
  return Object.entries(value).some(([k, v]) => k === '$patch' || k === '$retainKeys' || k.startsWith(SET_ORDER) || k.startsWith(DELETE_FROM) || hasDirective(v));
}

/** No Kubernetes object nests this deep; a body that does is read as unreadable, not walked (F5). */
const MAX_PATCH_DEPTH = 200;

/** Iterative, so a hostile body nested thousands deep cannot exhaust the stack. */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [node, depth] = item;
    if (node === null || typeof node !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

function looksLikeApply(body: Record<string, unknown>, requestURI: string | undefined): boolean {
  const query = new URLSearchParams(requestURI?.split('?')[1] ?? '');
  if (query.has('force')) return true;
  return typeof body.apiVersion === 'string' && typeof body.kind === 'string' && isRecord(body.metadata) && typeof body.metadata.name === 'string';
}

function pointerSegments(pointer: string): string[] | undefined {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return undefined;
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((s) => (/^\d+$/.test(s) || s === '-' ? `[${s}]` : s));
}

/** A position in a container list named by the container it holds in `after`, when no op moved list elements. */
function nameElements(paths: string[][], after: Deployment | undefined, stable: boolean): PatchedPath[] {
  if (!stable || after === undefined) return paths;
  const spec: Record<string, unknown> | undefined = after.spec?.template?.spec;
  return paths.map((p) => {
    const [a, b, c, list, element] = p;
    if (a !== 'spec' || b !== 'template' || c !== 'spec' || list === undefined || MERGE_KEYS[list] !== 'name' || element === undefined) return p;
    const index = /^\[(\d+)\]$/.exec(element);
    const items = spec?.[list];
    const item: unknown = index && Array.isArray(items) ? items[Number(index[1])] : undefined;
    return isRecord(item) && typeof item.name === 'string' ? [a, b, c, list, `[name=${item.name}]`, ...p.slice(5)] : p;
  });
}

function jsonPatchPaths(ops: unknown[], after: Deployment | undefined): PatchShape {
  const paths: string[][] = [];
  let stable = true;
  for (const op of ops) {
    if (!isRecord(op) || typeof op.op !== 'string' || typeof op.path !== 'string') return { type: 'unreadable' };
    if (op.op === 'test') continue;
    const path = pointerSegments(op.path);
    const from = typeof op.from === 'string' ? pointerSegments(op.from) : undefined;
    if (path === undefined || (op.op === 'move' && from === undefined)) return { type: 'unreadable' };
    if (op.op !== 'replace') stable = false;
    paths.push(path);
    if (op.op === 'move' && from !== undefined) paths.push(from);
  }
  return { type: 'json', touched: nameElements(paths, after, stable) };
}

/** Walks a merge or strategic merge body; `strategic` says whether lists with a merge key merge by it. */
function mergePaths(node: unknown, path: string[], strategic: boolean, out: PatchedPath[]): void {
  if (!isRecord(node)) {
    out.push(path);
    return;
  }
  // An empty object creates the field if it is missing; at the root it does nothing.
  if (Object.keys(node).length === 0) {
    if (path.length > 0) out.push(path);
    return;
  }
  if (strategic && (node.$patch !== undefined || node.$retainKeys !== undefined)) {
    out.push(path); // replaced, deleted, or cleared down to the retained keys: the whole object
    return;
  }
  for (const [key, value] of Object.entries(node)) {
    if (strategic && key.startsWith(SET_ORDER)) out.push([...path, key.slice(SET_ORDER.length), '[order]']);
    else if (strategic && key.startsWith(DELETE_FROM)) out.push([...path, key.slice(DELETE_FROM.length)]);
    else if (strategic && key.startsWith('$')) out.push(path);
    else if (strategic && Array.isArray(value)) listPaths(value, [...path, key], MERGE_KEYS[key], out);
    else mergePaths(value, [...path, key], strategic, out);
  }
}

function listPaths(items: unknown[], path: string[], mergeKey: string | undefined, out: PatchedPath[]): void {
  const keyed = mergeKey !== undefined && items.every((i) => isRecord(i) && (typeof i[mergeKey] === 'string' || typeof i[mergeKey] === 'number'));
  if (!keyed || items.some((i) => isRecord(i) && i.$patch === 'replace' && Object.keys(i).length === 1)) {
    out.push(path);
    return;
  }
  for (const item of items as Record<string, unknown>[]) {
    const element = [...path, `[${mergeKey}=${String(item[mergeKey])}]`];
    const fields = Object.fromEntries(Object.entries(item).filter(([k]) => k !== mergeKey));
    // An element with no other field may be new; one with `$patch` is deleted or replaced: whole either way.
    if (Object.keys(fields).length === 0 || fields.$patch !== undefined) out.push(element);
    else mergePaths(fields, element, true, out);
  }
}

/** The patch type and the fields it wrote; `after` names JSON-patch positions in container lists. */
export function patchShape(body: unknown, requestURI: string | undefined, after: Deployment | undefined): PatchShape {
  if (Array.isArray(body)) return nestedDeeperThan(body, MAX_PATCH_DEPTH) ? { type: 'unreadable' } : jsonPatchPaths(body, after);
  if (!isRecord(body) || nestedDeeperThan(body, MAX_PATCH_DEPTH)) return { type: 'unreadable' };
  if (looksLikeApply(body, requestURI)) return { type: 'apply' };
  const strategic = hasDirective(body);
  const touched: PatchedPath[] = [];
  mergePaths(body, [], strategic, touched);
  return { type: strategic ? 'strategic' : 'merge', touched };
}

/** Whether a written field is spec.template, inside it, or above it. */
export function touchesTemplate(path: PatchedPath): boolean {
  const [a, b] = path;
  return a === undefined || (a === 'spec' && (b === undefined || b === 'template'));
}
