import type { KubeRest } from './rest.js';

// Who a bearer token belongs to (TokenReview) and whether that identity may do something
// (SubjectAccessReview), asked of the apiserver itself, so rollguard never judges credentials.

export interface Identity {
  user: string;
  groups: string[];
}

export type TokenReviewResult = { authenticated: true; identity: Identity } | { authenticated: false; reason: string };

export async function reviewToken(rest: KubeRest, token: string): Promise<TokenReviewResult> {
  const review = await rest.create<{ status?: { authenticated?: boolean; user?: { username?: string; groups?: string[] }; error?: string } }>(
    '/apis/authentication.k8s.io/v1/tokenreviews',
    { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
  );
  const s = review.status ?? {};
  const user = s.user?.username;
  if (s.authenticated !== true || user === undefined || user === '') {
    return { authenticated: false, reason: s.error !== undefined && s.error !== '' ? `the cluster did not accept the token: ${s.error}` : 'the cluster did not accept the token (expired, revoked, or from another cluster)' };
  }
  return { authenticated: true, identity: { user, groups: s.user?.groups ?? [] } };
}

export interface AccessQuestion {
  namespace: string;
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  name?: string;
}

export type AccessAnswer = { allowed: true } | { allowed: false; reason: string };

export async function reviewAccess(rest: KubeRest, who: Identity, q: AccessQuestion): Promise<AccessAnswer> {
  const review = await rest.create<{ status?: { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string } }>(
    '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: { user: who.user, groups: who.groups, resourceAttributes: { namespace: q.namespace, verb: q.verb, group: q.group, resource: q.resource, ...(q.subresource === undefined ? {} : { subresource: q.subresource }), ...(q.name === undefined ? {} : { name: q.name }) } },
    },
  );
  if (review.status?.allowed === true) return { allowed: true };
  const what = `${q.verb} ${q.group === '' ? '' : `${q.group}/`}${q.resource}${q.subresource === undefined ? '' : `/${q.subresource}`}${q.name === undefined ? '' : ` ${q.name}`} ${q.namespace === '' ? 'in every namespace' : `in namespace ${q.namespace}`}`;
  const why = review.status?.reason ?? review.status?.evaluationError;
  return { allowed: false, reason: `${who.user} may not ${what}${why !== undefined && why !== '' ? ` (${why})` : ''}` };
}
