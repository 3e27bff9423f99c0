import { sameJson } from './canonical-json.js';
import type { Container, Deployment, PodSpec } from './kube.js';
import { deployRefs, refKey, type ConfigRef, type DeployRefs } from './template-refs.js';

// What a Deployment change touched: which parts of the pod template, which spec fields outside
// it, and which ConfigMaps/Secrets the template started or stopped reading.

export type TemplatePart = 'images' | 'env' | 'resources' | 'probes' | 'command' | 'volumes' | 'metadata' | 'other';

export interface DeploymentDiff {
  templateChanged: boolean;
  parts: TemplatePart[];
  /** Spec fields other than template, replicas and paused that changed (a rollback keeps them). */
  outsideTemplate: string[];
  replicasChanged: boolean;
  refsAdded: ConfigRef[];
  refsRemoved: ConfigRef[];
  images: { container: string; before: string | undefined; after: string | undefined }[];
}

// Scaling and pausing are not part of a deploy; every other spec field is.
const NOT_A_DEPLOY = new Set(['template', 'replicas', 'paused']);

const CONTAINER_PARTS: readonly [TemplatePart, readonly string[]][] = [
  ['images', ['image']],
  ['env', ['env', 'envFrom']],
  ['resources', ['resources']],
  ['probes', ['livenessProbe', 'readinessProbe', 'startupProbe']],
  ['command', ['command', 'args', 'workingDir']],
  ['volumes', ['volumeMounts', 'volumeDevices']],
];
const CLASSIFIED_CONTAINER_FIELDS = new Set(['name', ...CONTAINER_PARTS.flatMap(([, fields]) => fields)]);
const CLASSIFIED_POD_FIELDS = new Set(['containers', 'initContainers', 'ephemeralContainers', 'volumes']);

/** The part of the template a container field belongs to (`other` for the rest). */
export function containerFieldPart(field: string): TemplatePart {
  return CONTAINER_PARTS.find(([, fields]) => fields.includes(field))?.[0] ?? 'other';
}

export const TEMPLATE_PART_ORDER: readonly TemplatePart[] = ['images', 'env', 'resources', 'probes', 'command', 'volumes', 'metadata', 'other'];

function allContainers(spec: PodSpec | undefined): Map<string, Container> {
  const out = new Map<string, Container>();
  for (const [role, list] of [
    ['', spec?.containers],
    ['init:', spec?.initContainers],
    ['ephemeral:', spec?.ephemeralContainers],
  ] as const) {
    for (const c of list ?? []) out.set(role + c.name, c);
  }
  return out;
}

function fieldsDiffer(a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined, fields: Iterable<string>): boolean {
  for (const f of fields) if (!sameJson(a?.[f], b?.[f])) return true;
  return false;
}

function otherFields(a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined, skip: ReadonlySet<string>): string[] {
  const keys = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
  return [...keys].filter((k) => !skip.has(k) && !sameJson(a?.[k], b?.[k])).sort();
}

/** Whether otherFields would name any field: stops at the first. */
function anyOtherField(a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined, skip: ReadonlySet<string>): boolean {
  for (const k of Object.keys(a ?? {})) if (!skip.has(k) && !sameJson(a?.[k], b?.[k])) return true;
  for (const k of Object.keys(b ?? {})) if (!skip.has(k) && !ownEnumerable(a, k) && !sameJson(undefined, b?.[k])) return true;
  return false;
}

function ownEnumerable(o: Record<string, unknown> | undefined, k: string): boolean {
  return o !== undefined && Object.prototype.propertyIsEnumerable.call(o, k);
}

function changedParts(before: Deployment | undefined, after: Deployment, ca: Map<string, Container>, cb: Map<string, Container>): TemplatePart[] {
  const parts = new Set<TemplatePart>();
  const a = before?.spec?.template;
  const b = after.spec?.template;
  if (!sameJson(a?.metadata, b?.metadata)) parts.add('metadata');
  for (const name of new Set([...ca.keys(), ...cb.keys()])) {
    const x = ca.get(name);
    const y = cb.get(name);
    if (x === undefined || y === undefined) {
      parts.add('other');
      if ((x?.image ?? y?.image) !== undefined) parts.add('images');
      continue;
    }
    for (const [part, fields] of CONTAINER_PARTS) if (fieldsDiffer(x, y, fields)) parts.add(part);
    if (anyOtherField(x, y, CLASSIFIED_CONTAINER_FIELDS)) parts.add('other');
  }
  if (!sameJson(a?.spec?.volumes, b?.spec?.volumes)) parts.add('volumes');
  if (anyOtherField(a?.spec, b?.spec, CLASSIFIED_POD_FIELDS)) parts.add('other');
  return TEMPLATE_PART_ORDER.filter((p) => parts.has(p));
}

function imageChanges(ca: Map<string, Container>, cb: Map<string, Container>): DeploymentDiff['images'] {
  const out: DeploymentDiff['images'] = [];
  for (const name of new Set([...ca.keys(), ...cb.keys()])) {
    const x = ca.get(name)?.image;
    const y = cb.get(name)?.image;
    if (x !== y) out.push({ container: name, before: x, after: y });
  }
  return out;
}

/** `refs`: the two templates' refs when the caller has read them already. */
export function diffDeployment(before: Deployment | undefined, after: Deployment, refs: DeployRefs = deployRefs(before?.spec?.template, after.spec?.template)): DeploymentDiff {
  const templateChanged = !sameJson(before?.spec?.template, after.spec?.template);
  const refsBefore = refs.before.all;
  const refsAfter = refs.after.all;
  const beforeKeys = new Set(refsBefore.map(refKey));
  const afterKeys = new Set(refsAfter.map(refKey));
  const containersBefore = allContainers(before?.spec?.template?.spec);
  const containersAfter = allContainers(after.spec?.template?.spec);
  return {
    templateChanged,
    parts: templateChanged ? changedParts(before, after, containersBefore, containersAfter) : [],
    outsideTemplate: otherFields(before?.spec, after.spec, NOT_A_DEPLOY).map((f) => `spec.${f}`),
    replicasChanged: before?.spec?.replicas !== after.spec?.replicas,
    refsAdded: refsAfter.filter((r) => !beforeKeys.has(refKey(r))),
    refsRemoved: refsBefore.filter((r) => !afterKeys.has(refKey(r))),
    images: imageChanges(containersBefore, containersAfter),
  };
}
