import { createHmac, timingSafeEqual } from 'node:crypto';

// Slack's request signing: `v0=` HMAC-SHA256 of `v0:{timestamp}:{raw body}` under the app's signing
// secret. A request more than five minutes old is refused, and so is one whose signature was seen
// before (a replay), so a captured Apply cannot be pressed again.

export const MAX_AGE_SECONDS = 300;

export type SlackCheck = { ok: true } | { ok: false; reason: string };

export function slackSignature(secret: string, timestamp: string, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** Signatures seen within the last MAX_AGE_SECONDS (older ones are refused by age anyway). */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  /** True the first time a signature is offered. */
  first(signature: string, nowSeconds: number): boolean {
    for (const [s, at] of this.seen) if (nowSeconds - at > MAX_AGE_SECONDS) this.seen.delete(s);
    if (this.seen.has(signature)) return false;
    this.seen.set(signature, nowSeconds);
    return true;
  }
}

export function verifySlackRequest(input: { secret: string; timestamp: string | undefined; signature: string | undefined; body: string; nowSeconds: number; replays: ReplayGuard }): SlackCheck {
  const { timestamp, signature } = input;
  if (timestamp === undefined || !/^\d+$/.test(timestamp)) return { ok: false, reason: 'no X-Slack-Request-Timestamp' };
  if (signature === undefined || !signature.startsWith('v0=')) return { ok: false, reason: 'no v0 X-Slack-Signature' };
  if (Math.abs(input.nowSeconds - Number(timestamp)) > MAX_AGE_SECONDS) return { ok: false, reason: 'the request is more than 5 minutes old' };
  const want = Buffer.from(slackSignature(input.secret, timestamp, input.body));
  const got = Buffer.from(signature);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return { ok: false, reason: 'the signature does not match' };
  if (!input.replays.first(signature, input.nowSeconds)) return { ok: false, reason: 'this request was already received (a replay)' };
  return { ok: true };
}
