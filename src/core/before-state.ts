import { containerFieldPart, TEMPLATE_PART_ORDER, type DeploymentDiff, type TemplatePart } from './deployment-diff.js';
import { formatInstant } from './duration.js';
import type { Container, Deployment } from './kube.js';

// How the Deployment before a deploy is known (R3), and what a patch tells about it when no earlier
// object is known: the patch's result with every field the patch did not touch as it was before.
// A field the patch wrote keeps an unknown old value (F1: at best unknown, never "unchanged").

export type PatchType = 'json' | 'merge' | 'strategic';

/**
 * A field a patch wrote, as object keys from the Deployment's root. A list element is `[name=x]`
 * (by merge key) or `[3]` (by position); `[order]` below a list means only its order was set.
 */
export type PatchedPath = readonly string[];

export type BeforeState =
  /** `before` is a whole object the log held, e.g. from a deployments/status update. */
  | { how: 'object'; at: number; source: string }
  /** `before` is not held; it equals `after` except at `touched`. */
  | { how: 'patch'; patchType: PatchType; touched: readonly PatchedPath[] }
  | { how: 'unknown'; why: string };

const PATCH_LABEL: Record<PatchType, string> = {
  json: 'JSON patch',
  strategic: 'strategic merge patch',
  merge: 'merge patch (no strategic-merge directive, so every list it names is taken as replaced whole)',
};

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);
// Scaling and pausing are not part of a deploy (as in diffDeployment).
const NOT_A_DEPLOY = new Set(['replicas', 'paused']);
const SHOWN_PATHS = 6;

export function pathText(path: PatchedPath): string {
  if (path.length === 0) return '(the whole object)';
  return path.reduce((text, seg) => (seg.startsWith('[') ? text + seg : text === '' ? seg : `${text}.${seg}`), '');
}

export function describeBeforeState(state: BeforeState): string {
  switch (state.how) {
    case 'object':
      return `before-state: the full object logged at ${formatInstant(state.at)} (${state.source})`;
    case 'patch': {
      const shown = state.touched.slice(0, SHOWN_PATHS).map(pathText);
      const more = state.touched.length > SHOWN_PATHS ? `, and ${state.touched.length - SHOWN_PATHS} more` : '';
      return `before-state: derived from the ${PATCH_LABEL[state.patchType]}: untouched fields unchanged; written: ${shown.join(', ')}${more}`;
    }
    case 'unknown':
      return `before-state: not known (${state.why})`;
  }
}

/** What one written field means for R3. */
interface PathMeaning {
  /** A spec field outside the template (or an ancestor of it) whose old value is not known. */
  outside: string | undefined;
  /** Part of the pod template it writes, when it writes inside it (`order`: only the order of a container list). */
  part: TemplatePart | 'order' | undefined;
  /** It decides which ConfigMaps/Secrets the template reads (env, envFrom, volumes, a whole container or list). */
  decidesRefs: boolean;
  image: { list: string; element: string } | undefined;
}

function templateMeaning(rest: readonly string[]): PathMeaning {
  const none = { outside: undefined, image: undefined };
  if (rest.length === 0) return { ...none, part: 'other', decidesRefs: true };
  if (rest[0] === 'metadata') return { ...none, part: 'metadata', decidesRefs: false };
  if (rest[0] !== 'spec' || rest.length === 1) return { ...none, part: 'other', decidesRefs: true };
  const field = rest[1] ?? '';
  if (field === 'volumes') return { ...none, part: 'volumes', decidesRefs: true };
  if (!CONTAINER_LISTS.has(field)) return { ...none, part: 'other', decidesRefs: false };
  const element = rest[2];
  if (element === '[order]') return { ...none, part: 'order', decidesRefs: false };
  const containerField = rest[3];
  if (element === undefined || containerField === undefined) return { ...none, part: 'other', decidesRefs: true };
  const part = containerFieldPart(containerField);
  const image = containerField === 'image' ? { list: field, element } : undefined;
  return { outside: undefined, image, part, decidesRefs: containerField === 'env' || containerField === 'envFrom' };
}

function meaningOf(path: PatchedPath): PathMeaning {
  const [top, field] = path;
  const irrelevant: PathMeaning = { outside: undefined, part: undefined, decidesRefs: false, image: undefined };
  if (top !== undefined && top !== 'spec') return irrelevant; // metadata, status: not part of the change set
  if (field === undefined) return { ...templateMeaning([]), outside: pathText(path) };
  if (field === 'template') return templateMeaning(path.slice(2));
  return NOT_A_DEPLOY.has(field) ? irrelevant : { ...irrelevant, outside: `spec.${field}` };
}

function containerAt(after: Deployment, list: string, element: string): Container | undefined {
  const containers = (after.spec?.template?.spec as Record<string, Container[] | undefined> | undefined)?.[list] ?? [];
  const byName = /^\[name=(.*)\]$/.exec(element);
  if (byName) return containers.find((c) => c.name === byName[1]);
  const index = /^\[(\d+)\]$/.exec(element);
  return index ? containers[Number(index[1])] : undefined;
}

export interface PatchedDiff {
  diff: DeploymentDiff;
  /** Why the change set cannot be known exactly: fields written outside the template. */
  unknown: string[];
  /** The written fields that decide the old template's ConfigMap/Secret refs: those refs are not known. */
  refsHidden: string[];
}

/** The diff a patch implies: `after` equals the state before everywhere except at `touched`. */
export function patchedDiff(after: Deployment, touched: readonly PatchedPath[]): PatchedDiff {
  const parts = new Set<TemplatePart | 'order'>();
  const outside = new Set<string>();
  const refsHidden: string[] = [];
  const images: DeploymentDiff['images'] = [];
  for (const path of touched) {
    const m = meaningOf(path);
    if (m.outside !== undefined) outside.add(m.outside);
    if (m.part !== undefined) parts.add(m.part);
    if (m.decidesRefs) refsHidden.push(pathText(path));
    if (m.image !== undefined) {
      const c = containerAt(after, m.image.list, m.image.element);
      const role = m.image.list === 'containers' ? '' : m.image.list === 'initContainers' ? 'init:' : 'ephemeral:';
      images.push({ container: role + (c?.name ?? m.image.element), before: undefined, after: c?.image });
    }
  }
  const templateChanged = parts.size > 0;
  // Setting the order of the containers it names (kubectl does with every list it patches) is a part only on its own.
  const named = TEMPLATE_PART_ORDER.filter((p) => parts.has(p));
  return {
    diff: {
      templateChanged,
      parts: named.length === 0 && templateChanged ? ['other'] : named,
      outsideTemplate: [],
      replicasChanged: false,
      refsAdded: [],
      refsRemoved: [],
      images,
    },
    unknown: [...outside].sort().map((f) => `${f} was written by the patch and its value before is not known, so whether it changed outside the pod template cannot be told (F1)`),
    refsHidden,
  };
}
