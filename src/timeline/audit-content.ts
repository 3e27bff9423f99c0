import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.js';

// Whether a ConfigMap's or Secret's content changed between two writes seen in an audit log.
// F3: Secret values are never kept. Each write's content is reduced, at once, to an HMAC under a
// key that is drawn at random when the replay starts and never leaves this object, so the digest
// reveals nothing even to someone holding it, and it dies with the process. Digests are compared
// for equality only and never put in a timeline event, a report or a log line.

export interface ContentBody {
  data?: unknown;
  binaryData?: unknown;
  stringData?: unknown;
  immutable?: unknown;
}

const CONTENT_FIELDS = ['data', 'binaryData', 'stringData', 'immutable'] as const;
export const CONTENT_PATHS: readonly (readonly string[])[] = CONTENT_FIELDS.map((f) => [f]);

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string');
}

export class ContentFingerprints {
  // A KeyObject: a raw Buffer key would be imported again by every createHmac.
  readonly #key = createSecretKey(randomBytes(32));

  /**
   * A digest of the content fields. `stringData` is what a client may send instead of `data`: the
   * apiserver stores it base64-encoded in `data`, so it is folded in the same way, and a request
   * body and a stored object with the same content get the same digest.
   */
  of(body: ContentBody): string {
    const data: Record<string, unknown> = typeof body.data === 'object' && body.data !== null ? { ...body.data } : {};
    if (isStringRecord(body.stringData)) {
      for (const [k, v] of Object.entries(body.stringData)) data[k] = Buffer.from(v, 'utf8').toString('base64');
    }
    const content = { data, binaryData: body.binaryData ?? {}, immutable: body.immutable === true };
    return createHmac('sha256', this.#key).update(canonicalJson(content)).digest('base64');
  }
}
