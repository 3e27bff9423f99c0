import { ANNOTATIONS } from '../core/annotations.js';
import { isTrustedWriter, mutationSubject, type MutateDeps } from './mutate.js';
import { reconcileOwnedKeys } from './owned-keys.js';
import { annotationPatch, readAnnotations } from './patch.js';
import type { Verdict } from './response.js';
import type { AdmissionRequest } from './review.js';
import { failOpenWarning } from './review-answer.js';

// The answer to a mutating review admitted without its stamps (the deadline passed, the handler
// failed, or the webhook sheds load): cheap, from the request's annotations alone, and never more
// permissive than no answer (F1, F2).
//
// - rollguard's keys stay rollguard's: a forged stamp is removed or put back, as on the normal path.
// - A ConfigMap or Secret loses its content stamps. Clients keep the annotations they do not set,
//   so its previous `content-changed-at` would otherwise stay and date a change it never saw, long
//   before this write. Unstamped, it reads as unknown unless managedFields dates this write before
//   a deploy's config window.
// - A Deployment keeps its previous stamps: they name the template they were computed for, which
//   no longer matches a changed template (unknown), and still match an unchanged one.
// - A blackout override carried over is spent as if the template changed: without the template
//   hashes (the cost this path avoids) rollguard cannot tell, and spending it only asks again.

const CONTENT_STAMPS = [ANNOTATIONS.contentChangedAt.key, ANNOTATIONS.createdAt.key];

export function unstampedVerdict(req: AdmissionRequest, deps: Pick<MutateDeps, 'trustedUsers' | 'ownNamespace'>, why: string): Verdict {
  const warning = failOpenWarning('stamp', why);
  const subject = mutationSubject(req, deps.ownNamespace);
  if (subject.type === 'done') return { type: 'allow', warnings: [warning] };
  const requested = readAnnotations(subject.object);
  const old = readAnnotations(req.operation === 'UPDATE' ? req.oldObject : undefined);
  const { annotations, warnings } = reconcileOwnedKeys({ old, requested, stamps: new Map(), trustedWriter: isTrustedWriter(req, deps.trustedUsers), templateChanged: true });
  if (subject.kind === 'ConfigMap' || subject.kind === 'Secret') for (const key of CONTENT_STAMPS) annotations.delete(key);
  return { type: 'patch', ops: annotationPatch(subject.object, annotations), warnings: [warning, ...warnings] };
}
