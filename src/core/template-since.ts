import { ANNOTATIONS } from './annotations.js';
import { parseInstant } from './duration.js';
import { parseTemplateHistory } from './template-hash.js';

// R3: when a Deployment's template began running, from its stamps: the admission the template
// history records for it. None of that template's pods is older, so a config object created
// before then is all they ever read. A template that came back by a rollback runs on a ReplicaSet
// from its earlier admission, whose pods may be older than that: not known then (F1).

/**
 * A rollback is recorded (rolled-back-at) at or just before the admission of the template it puts
 * back: the webhook stamps both at once, the agent writes its record in the request it then sends.
 */
const ROLLBACK_ADMISSION_SLACK_MS = 30_000;

export function templateSince(annotations: Readonly<Record<string, string>>, hash: string): number | undefined {
  const at = parseTemplateHistory(annotations[ANNOTATIONS.templateHistory.key]).find((e) => e.hash === hash)?.at;
  if (at === undefined) return undefined;
  const rolledBackAt = parseInstant(annotations[ANNOTATIONS.rolledBackAt.key]);
  const cameBack = rolledBackAt !== undefined && rolledBackAt <= at && at - rolledBackAt <= ROLLBACK_ADMISSION_SLACK_MS;
  return cameBack ? undefined : at;
}
