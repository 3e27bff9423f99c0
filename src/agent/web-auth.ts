import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { reviewToken, type Identity } from '../kube/auth-reviews.js';
import type { KubeRest } from '../kube/rest.js';

// Who is pressing a button on the decision page. Either a Kubernetes bearer token (their OIDC id
// token, or one from `kubectl create token`), checked by the apiserver's TokenReview and never
// stored or logged; or an authenticating proxy's identity headers, believed only when the request
// comes from one of the configured proxy addresses. Forms carry a CSRF token bound to the decision
// and to a random secret in the browser's cookie (double submit): any replica checks it without
// sharing a key, so a page served by one replica may post to another.

export const CSRF_COOKIE = 'rollguard-csrf';

export interface WebAuthOptions {
  rest: KubeRest;
  /** Source addresses of authenticating proxies whose identity headers are trusted. */
  trustedProxies: readonly string[];
  userHeader?: string;
  groupHeader?: string;
}

export type WebIdentity = { ok: true; identity: Identity; how: 'token' | 'proxy' } | { ok: false; status: 401; message: string };

function normalizeAddress(a: string | undefined): string {
  return (a ?? '').replace(/^::ffff:/, '');
}

export class WebAuth {
  constructor(private readonly opts: WebAuthOptions) {}

  /** The browser's CSRF secret from its Cookie header, or a new one (`fresh`: to be set as the cookie). */
  csrfSession(cookieHeader: string | undefined): { value: string; fresh: boolean } {
    const found = (cookieHeader ?? '').split(';').map((c) => c.trim().split('=')).find(([k]) => k === CSRF_COOKIE)?.[1];
    return found !== undefined && /^[A-Za-z0-9_-]{43}$/.test(found) ? { value: found, fresh: false } : { value: randomBytes(32).toString('base64url'), fresh: true };
  }

  /** The Set-Cookie value for a fresh session: only the decision routes, never sent cross-site. */
  csrfCookie(session: string): string {
    return `${CSRF_COOKIE}=${session}; Path=/decisions; HttpOnly; SameSite=Strict`;
  }

  /** The form token for one decision: an HMAC of it under the browser's own secret. */
  csrfToken(decisionId: string, session: string): string {
    return createHmac('sha256', session).update(`csrf:${decisionId}`).digest('base64url');
  }

  csrfValid(decisionId: string, token: unknown, cookieHeader: string | undefined): boolean {
    const session = this.csrfSession(cookieHeader);
    if (typeof token !== 'string' || session.fresh) return false;
    const want = Buffer.from(this.csrfToken(decisionId, session.value));
    const got = Buffer.from(token);
    return want.length === got.length && timingSafeEqual(want, got);
  }

  async identify(headers: IncomingHttpHeaders, remoteAddress: string | undefined, formToken: unknown): Promise<WebIdentity> {
    const auth = headers.authorization;
    const bearer = typeof auth === 'string' && /^bearer\s+/i.test(auth) ? auth.replace(/^bearer\s+/i, '').trim() : typeof formToken === 'string' && formToken.trim() !== '' ? formToken.trim() : undefined;
    if (bearer !== undefined) {
      const review = await reviewToken(this.opts.rest, bearer);
      return review.authenticated ? { ok: true, identity: review.identity, how: 'token' } : { ok: false, status: 401, message: review.reason };
    }
    const userHeader = (this.opts.userHeader ?? 'x-remote-user').toLowerCase();
    const user = headers[userHeader];
    if (typeof user === 'string' && user !== '') {
      if (!this.opts.trustedProxies.includes(normalizeAddress(remoteAddress))) {
        return { ok: false, status: 401, message: `identity headers are only accepted from the configured authenticating proxies; ${normalizeAddress(remoteAddress)} is not one` };
      }
      const raw = headers[(this.opts.groupHeader ?? 'x-remote-group').toLowerCase()];
      const groups = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).flatMap((g) => g.split(',')).map((g) => g.trim()).filter((g) => g !== '');
      return { ok: true, identity: { user, groups }, how: 'proxy' };
    }
    return { ok: false, status: 401, message: 'sign in: paste a Kubernetes bearer token (your OIDC id token, or `kubectl create token`), or come through the authenticating proxy' };
  }
}
