import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// The AdmissionReviews of the load parts, as the apiserver sends them: 70% Deployment, 20%
// ConfigMap, 5% Secret, 5% Job (the test fixtures, managedFields dropped, compact JSON); bodies 2 KB
// at the median, 5% at 256 KB, 0.1% at 3 MiB (padded with what makes objects big: a
// last-applied-configuration annotation, ConfigMap/Secret data). Each body is its template with a
// fresh uid spliced in, so the answer's uid can be checked.

const FIXTURE_DIR = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'admission');
const UID_MARK = '00000000-0000-4000-8000-000000000000';

export type ReviewKind = 'Deployment' | 'ConfigMap' | 'Secret' | 'Job';

const KINDS: readonly (readonly [ReviewKind, number, string])[] = [
  ['Deployment', 0.7, 'deployment-create'],
  ['ConfigMap', 0.2, 'configmap-create'],
  ['Secret', 0.05, 'secret-update'],
  ['Job', 0.05, 'job-create'],
];

const KB = 1024;
/** Small bodies: 2 KB at the median, spread by ×/÷ 1.5 (a few buckets, so templates are built once). */
const SMALL_SIZES = [1.2, 1.5, 1.8, 2, 2, 2.2, 2.7, 3.4].map((k) => Math.round(k * KB));
const LARGE = 256 * KB;
const HUGE = 3 * KB * KB;

interface Template {
  kind: ReviewKind;
  prefix: Buffer;
  suffix: Buffer;
  bytes: number;
}

export interface ReviewBody {
  kind: ReviewKind;
  uid: string;
  /** prefix + uid + suffix: written in three parts, never concatenated. */
  parts: [Buffer, Buffer, Buffer];
  bytes: number;
}

type Obj = Record<string, unknown>;

function fixtureReview(name: string): Obj {
  const review = JSON.parse(readFileSync(join(FIXTURE_DIR, `${name}.json`), 'utf8')) as { request: Obj & { object?: Obj | null; oldObject?: Obj | null } };
  review.request.uid = UID_MARK;
  for (const o of [review.request.object, review.request.oldObject]) delete (o?.metadata as Obj | undefined)?.managedFields;
  return review;
}

/** Grows the review's object (and oldObject, as an update of a big object carries both) by `extra` bytes. */
function pad(review: Obj, kind: ReviewKind, extra: number): void {
  // A CREATE's oldObject is null.
  const request = review.request as { object?: Obj | null; oldObject?: Obj | null };
  const objects = [request.object, request.oldObject].filter((o): o is Obj => o !== undefined && o !== null);
  const each = Math.max(0, Math.floor(extra / objects.length) - 64);
  for (const o of objects) {
    if (kind === 'ConfigMap' || kind === 'Secret') {
      const data = (o.data ?? {}) as Record<string, string>;
      data['blob.txt'] = kind === 'Secret' ? Buffer.alloc(Math.floor((each * 3) / 4), 'x').toString('base64') : 'x'.repeat(each);
      o.data = data;
    } else {
      const metadata = o.metadata as Obj;
      const annotations = (metadata.annotations ?? {}) as Record<string, string>;
      annotations['kubectl.kubernetes.io/last-applied-configuration'] = JSON.stringify({ spec: { note: 'x'.repeat(Math.max(0, each - 32)) } });
      metadata.annotations = annotations;
    }
  }
}

function template(kind: ReviewKind, fixture: string, size: number): Template {
  const review = fixtureReview(fixture);
  const base = JSON.stringify(review).length;
  if (size > base) pad(review, kind, size - base);
  const text = JSON.stringify(review);
  const at = text.indexOf(UID_MARK);
  return { kind, prefix: Buffer.from(text.slice(0, at)), suffix: Buffer.from(text.slice(at + UID_MARK.length)), bytes: Buffer.byteLength(text) };
}

export interface ReviewMix {
  next(rand: () => number): ReviewBody;
}

export function reviewMix(): ReviewMix {
  const byKind = new Map<ReviewKind, { small: Template[]; large: Template; huge: Template }>();
  for (const [kind, , fixture] of KINDS) {
    byKind.set(kind, { small: SMALL_SIZES.map((s) => template(kind, fixture, s)), large: template(kind, fixture, LARGE), huge: template(kind, fixture, HUGE) });
  }
  let sequence = 0;
  return {
    next(rand) {
      let r = rand();
      let kind: ReviewKind = 'Deployment';
      for (const [k, share] of KINDS) {
        kind = k;
        if (r < share) break;
        r -= share;
      }
      const set = byKind.get(kind) as { small: Template[]; large: Template; huge: Template };
      const s = rand();
      const t = s < 0.001 ? set.huge : s < 0.051 ? set.large : (set.small[Math.floor(rand() * set.small.length)] as Template);
      sequence++;
      const uid = `00000000-0000-4000-8000-${sequence.toString(16).padStart(12, '0')}`;
      return { kind, uid, parts: [t.prefix, Buffer.from(uid), t.suffix], bytes: t.bytes };
    },
  };
}
