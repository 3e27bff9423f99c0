// The `audit.k8s.io/v1` Event as kube-apiserver's log backend writes it, one JSON object per line
// (k8s.io/apiserver/pkg/apis/audit/v1). Only the fields rollguard reads are typed. `checkAuditEvent`
// decides whether one record may feed the timeline, and if not, says why in one word.

export type AuditLevel = 'None' | 'Metadata' | 'Request' | 'RequestResponse';
export type AuditStage = 'RequestReceived' | 'ResponseStarted' | 'ResponseComplete' | 'Panic';

export interface AuditObjectRef {
  resource?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiGroup?: string;
  apiVersion?: string;
  resourceVersion?: string;
  subresource?: string;
}

export interface AuditEvent {
  kind: 'Event';
  apiVersion: 'audit.k8s.io/v1';
  level: AuditLevel;
  auditID: string;
  stage: AuditStage;
  requestURI: string;
  verb: string;
  user?: { username?: string; uid?: string; groups?: string[] };
  impersonatedUser?: { username?: string };
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: AuditObjectRef;
  responseStatus?: { code?: number; status?: string; reason?: string; message?: string };
  requestObject?: unknown;
  responseObject?: unknown;
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations?: Record<string, string>;
}

/** An accepted audit record with its stageTimestamp parsed (epoch ms): the timeline's ordering key. */
export interface TimedAuditEvent {
  at: number;
  event: AuditEvent;
}

/** Why a line did not feed the timeline. Counted and reported, never fatal (F5). */
export const SKIP_REASONS = {
  'invalid-json': 'not valid JSON (truncated or corrupt line)',
  'not-an-event': 'JSON but not an audit Event (unknown kind)',
  'api-version': 'an audit Event of another API version than audit.k8s.io/v1',
  incomplete: 'an audit Event missing auditID, verb, stage, responseStatus or a valid stageTimestamp, or with a requestURI that is not a string',
  stage: 'a stage other than ResponseComplete',
  failed: 'a failed request (response code not 2xx)',
  'dry-run': 'a dry-run request (nothing was persisted)',
  duplicate: 'a duplicate of an event already read (same auditID)',
  'too-late': 'out of order by more than the reorder window',
  'truncated-file': 'a file that ended inside its compressed stream or could not be read to the end',
} as const;
export type SkipReason = keyof typeof SKIP_REASONS;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const DRY_RUN = /[?&]dryRun=/;

/** Accepts a parsed JSON value as a successful, completed audit Event, or names why not. */
export function checkAuditEvent(value: unknown): TimedAuditEvent | SkipReason {
  if (!isRecord(value) || value.kind !== 'Event') return 'not-an-event';
  if (value.apiVersion !== 'audit.k8s.io/v1') return 'api-version';
  const { auditID, verb, stage, stageTimestamp, responseStatus, requestURI } = value;
  if (typeof auditID !== 'string' || typeof verb !== 'string' || typeof stage !== 'string' || typeof stageTimestamp !== 'string') {
    return 'incomplete';
  }
  if (stage !== 'ResponseComplete') return 'stage';
  if (!isRecord(responseStatus) || typeof responseStatus.code !== 'number') return 'incomplete';
  if (responseStatus.code < 200 || responseStatus.code > 299) return 'failed';
  const at = Date.parse(stageTimestamp);
  if (Number.isNaN(at)) return 'incomplete';
  // Read as a string further on (a patch's query, a collection's selector).
  if (requestURI !== undefined && typeof requestURI !== 'string') return 'incomplete';
  if (typeof requestURI === 'string' && DRY_RUN.test(requestURI)) return 'dry-run';
  return { at, event: value as unknown as AuditEvent };
}

/** Parses one log line. Blank lines are not records and return undefined. */
export function parseAuditLine(line: string): TimedAuditEvent | SkipReason | undefined {
  if (line.length === 0 || line.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'invalid-json';
  }
  return checkAuditEvent(value);
}
