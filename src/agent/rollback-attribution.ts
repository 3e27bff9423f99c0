import { ANNOTATIONS } from '../core/annotations.js';
import { parseInstant } from '../core/duration.js';
import type { Deployment } from '../core/kube.js';
import { templateHash } from '../core/template-hash.js';
import type { DecisionRecord } from './decision-record.js';

// A decision's own effect is not a newer deploy: when the Deployment was rolled back after the
// decision was made (the webhook records every rollback: who, when, R8), the decision was carried
// out (by the page, Slack, `rollguard apply`, or rollguard itself), never "superseded" by it.

/** Rollbacks recorded at admission carry the admission time, which may round below the decision's own time. */
const CLOCK_SLACK_MS = 1000;

export const AGENT_BY = 'rollguard-agent';

export interface Attribution {
  state: 'applied' | 'rolled-back';
  by: string;
  at: number;
}

export function rollbackOf(record: Pick<DecisionRecord, 'templateHash' | 'firstDecidedAt' | 'id'>, deployment: Deployment | undefined): Attribution | undefined {
  if (deployment?.spec?.template === undefined || templateHash(deployment.spec.template) === record.templateHash) return undefined;
  const a = deployment.metadata?.annotations ?? {};
  const at = parseInstant(a[ANNOTATIONS.rolledBackAt.key]);
  if (at === undefined) return undefined;
  const byThisDecision = a[ANNOTATIONS.decisionId.key] === record.id;
  if (!byThisDecision && at < record.firstDecidedAt - CLOCK_SLACK_MS) return undefined;
  const by = a[ANNOTATIONS.rolledBackBy.key] ?? 'unknown';
  return { state: by.startsWith(AGENT_BY) ? 'rolled-back' : 'applied', by, at };
}
