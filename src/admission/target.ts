import type { AdmissionRequest } from './review.js';

// Which of rollguard's kinds a request is about, from the request's resource and kind, and whether
// the object it carries agrees (a crafted request can say one kind and send another).

export type TargetKind = 'Deployment' | 'ConfigMap' | 'Secret' | 'Job';

const TARGETS: readonly { group: string; resource: string; kind: TargetKind }[] = [
  { group: 'apps', resource: 'deployments', kind: 'Deployment' },
  { group: '', resource: 'configmaps', kind: 'ConfigMap' },
  { group: '', resource: 'secrets', kind: 'Secret' },
  { group: 'batch', resource: 'jobs', kind: 'Job' },
];

export type Target =
  | { type: 'object'; kind: TargetKind }
  /** Not stamped: another kind, a subresource (scale, status), or an object that disagrees with the request. */
  | { type: 'skip'; why: string; warning?: string };

export function admissionTarget(req: AdmissionRequest): Target {
  const target = TARGETS.find((t) => t.group === req.resource.group && t.resource === req.resource.resource);
  if (target === undefined) return { type: 'skip', why: `rollguard does not stamp ${req.resource.resource}` };
  if (req.subResource !== undefined && req.subResource !== '') return { type: 'skip', why: `subresource ${req.resource.resource}/${req.subResource} is not stamped` };
  if (req.kind.kind !== target.kind) {
    return { type: 'skip', why: 'kind mismatch', warning: `rollguard: request kind ${req.kind.kind} does not match resource ${req.resource.resource}; not stamped` };
  }
  const objectKind = req.object?.kind;
  if (objectKind !== undefined && objectKind !== target.kind) {
    const shown = typeof objectKind === 'string' ? objectKind : typeof objectKind;
    return { type: 'skip', why: 'object kind mismatch', warning: `rollguard: the object's kind ${shown} does not match ${target.kind}; not stamped` };
  }
  return { type: 'object', kind: target.kind };
}
