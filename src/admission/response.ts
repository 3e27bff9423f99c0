import type { Operation as PatchOp } from 'fast-json-patch';
import type { AdmissionReview, ReviewApiVersion } from './review.js';

// What the webhook answers: always HTTP 200 with an AdmissionReview of the request's apiVersion and
// kind, the uid echoed; a patch only when there is something to change; a denial with a code.

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  patch?: string;
  warnings?: string[];
  status?: { code: number; message: string; reason?: string };
}

export interface ReviewResponse {
  apiVersion: ReviewApiVersion;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

export type Verdict =
  | { type: 'allow'; warnings?: readonly string[] }
  | { type: 'patch'; ops: readonly PatchOp[]; warnings?: readonly string[] }
  | { type: 'deny'; code: number; message: string };

const REASONS: Record<number, string> = { 403: 'Forbidden', 422: 'Invalid' };

/** The apiserver truncates long warnings; each is kept to one short line. */
const MAX_WARNING = 256;

function warnings(list: readonly string[] | undefined): { warnings?: string[] } {
  if (list === undefined || list.length === 0) return {};
  return { warnings: list.map((w) => (w.length > MAX_WARNING ? `${w.slice(0, MAX_WARNING - 1)}…` : w)) };
}

export function toReviewResponse(review: AdmissionReview, verdict: Verdict): ReviewResponse {
  const uid = review.request.uid;
  let response: AdmissionResponse;
  switch (verdict.type) {
    case 'allow':
      response = { uid, allowed: true, ...warnings(verdict.warnings) };
      break;
    case 'patch':
      response =
        verdict.ops.length === 0
          ? { uid, allowed: true, ...warnings(verdict.warnings) }
          : { uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(verdict.ops)).toString('base64'), ...warnings(verdict.warnings) };
      break;
    case 'deny':
      response = { uid, allowed: false, status: { code: verdict.code, message: verdict.message, reason: REASONS[verdict.code] ?? 'BadRequest' } };
      break;
  }
  return { apiVersion: review.apiVersion, kind: 'AdmissionReview', response };
}
