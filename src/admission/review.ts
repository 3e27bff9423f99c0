import * as z from 'zod';
import { describeIssues } from '../core/policy.js';
import { wellFormedEnvelope } from './review-envelope.js';

// The AdmissionReview envelope as the apiserver sends it (admission.k8s.io/v1; v1beta1 has the
// same shape and is answered in kind). Only the envelope is validated: `object` and `oldObject`
// stay as received, because the JSON patch must be computed against them exactly.

export const REVIEW_VERSIONS = ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const;
export type ReviewApiVersion = (typeof REVIEW_VERSIONS)[number];

const groupVersionKind = z.looseObject({ group: z.string(), version: z.string(), kind: z.string().min(1) });
const groupVersionResource = z.looseObject({ group: z.string(), version: z.string(), resource: z.string().min(1) });
const object = z.record(z.string(), z.unknown()).nullable().optional();

const requestSchema = z.looseObject({
  uid: z.string().min(1, 'request.uid must be a non-empty string'),
  kind: groupVersionKind,
  resource: groupVersionResource,
  subResource: z.string().optional(),
  name: z.string().optional(),
  namespace: z.string().optional(),
  operation: z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']),
  userInfo: z.looseObject({ username: z.string().optional(), groups: z.array(z.string()).optional() }).optional(),
  object,
  oldObject: object,
  dryRun: z.boolean().optional(),
});

const reviewSchema = z.looseObject({
  apiVersion: z.enum(REVIEW_VERSIONS, { message: `apiVersion must be one of ${REVIEW_VERSIONS.join(', ')}` }),
  kind: z.literal('AdmissionReview', { message: 'kind must be "AdmissionReview"' }),
  request: requestSchema,
});

export type AdmissionRequest = z.infer<typeof requestSchema>;
export type Operation = AdmissionRequest['operation'];

export interface AdmissionReview {
  apiVersion: ReviewApiVersion;
  request: AdmissionRequest;
}

export type ReviewParse = { ok: true; review: AdmissionReview } | { ok: false; errors: string[] };

/** The envelope checked by the schema alone (the reference the hand-written check in review-envelope.ts is tested against). */
export function parseReviewWithSchema(body: unknown): ReviewParse {
  const parsed = reviewSchema.safeParse(body);
  if (!parsed.success) return { ok: false, errors: describeIssues(parsed.error.issues) };
  return { ok: true, review: { apiVersion: parsed.data.apiVersion, request: parsed.data.request } };
}

export function parseReview(body: unknown): ReviewParse {
  const review = wellFormedEnvelope(body);
  return review === undefined ? parseReviewWithSchema(body) : { ok: true, review };
}
