import type { AdmissionRequest, ReviewApiVersion } from './review.js';

// The AdmissionReview envelope checked by hand, for the reviews the apiserver sends: what the zod
// schema in review.ts accepts, without its copies (a review is checked once per request, and
// walking it with zod costs as much as parsing it). Whatever this check does not recognise goes
// to the schema, which decides and words the errors; so this only needs to be sound: it accepts
// nothing the schema would refuse, and what it accepts is the input itself, where the schema would
// give an equal copy. A key "__proto__" (the schema leaves it out of its copy) always goes to the schema.

const OPERATIONS: ReadonlySet<unknown> = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);
const VERSIONS: ReadonlySet<unknown> = new Set(['admission.k8s.io/v1', 'admission.k8s.io/v1beta1']);

type Obj = Record<string, unknown>;

/** z.looseObject's test (typeof object, not null, not an array), refusing an own "__proto__". */
function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Object.hasOwn(v, '__proto__');
}

/** z.record's test is isPlainObject: a JSON object always passes; anything with another prototype goes to the schema. */
function isPlainRecord(v: unknown): v is Obj {
  if (!isObject(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

const optionalString = (v: unknown): boolean => v === undefined || typeof v === 'string';
const nonEmptyString = (v: unknown): boolean => typeof v === 'string' && v.length > 0;

function isGroupVersion(v: unknown, name: 'kind' | 'resource'): boolean {
  return isObject(v) && typeof v.group === 'string' && typeof v.version === 'string' && nonEmptyString(v[name]);
}

function isUserInfo(v: unknown): boolean {
  if (v === undefined) return true;
  if (!isObject(v) || !optionalString(v.username)) return false;
  const groups = v.groups;
  return groups === undefined || (Array.isArray(groups) && groups.every((g) => typeof g === 'string'));
}

const isObjectField = (v: unknown): boolean => v === undefined || v === null || isPlainRecord(v);

function isRequest(r: unknown): r is AdmissionRequest {
  return (
    isObject(r) &&
    nonEmptyString(r.uid) &&
    isGroupVersion(r.kind, 'kind') &&
    isGroupVersion(r.resource, 'resource') &&
    optionalString(r.subResource) &&
    optionalString(r.name) &&
    optionalString(r.namespace) &&
    OPERATIONS.has(r.operation) &&
    isUserInfo(r.userInfo) &&
    isObjectField(r.object) &&
    isObjectField(r.oldObject) &&
    (r.dryRun === undefined || typeof r.dryRun === 'boolean')
  );
}

/** The review's apiVersion and request when the envelope is one the schema accepts as is; undefined: ask the schema. */
export function wellFormedEnvelope(body: unknown): { apiVersion: ReviewApiVersion; request: AdmissionRequest } | undefined {
  if (!isObject(body) || !VERSIONS.has(body.apiVersion) || body.kind !== 'AdmissionReview' || !isRequest(body.request)) return undefined;
  return { apiVersion: body.apiVersion as ReviewApiVersion, request: body.request };
}
