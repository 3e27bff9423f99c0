import { createHmac, timingSafeEqual } from 'node:crypto';

// The generic webhook's signature, as receivers check it: HMAC-SHA256 with the shared secret over
// `${timestamp}.${body}`, sent as `X-Rollguard-Signature: t=<unix seconds>,v1=<hex>`. The
// timestamp is signed too, so a receiver that refuses old timestamps refuses replays.

export const SIGNATURE_HEADER = 'X-Rollguard-Signature';

export function signatureHex(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

export function signatureHeader(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${signatureHex(secret, timestamp, body)}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** What a receiver does: the header parses, the timestamp is recent, and one v1 matches. */
export function verifySignature(secret: string, header: string | undefined, body: string, nowSeconds: number, toleranceSeconds = 300): SignatureCheck {
  if (header === undefined) return { ok: false, reason: `no ${SIGNATURE_HEADER} header` };
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  const candidates = parts.filter(([k]) => k === 'v1').map(([, v]) => v ?? '');
  if (!Number.isInteger(t) || candidates.length === 0) return { ok: false, reason: 'malformed signature header' };
  if (Math.abs(nowSeconds - t) > toleranceSeconds) return { ok: false, reason: 'timestamp outside the tolerance' };
  const expected = Buffer.from(signatureHex(secret, t, body), 'hex');
  const match = candidates.some((c) => {
    const given = Buffer.from(c, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return match ? { ok: true } : { ok: false, reason: 'signature does not match' };
}
