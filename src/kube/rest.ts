import { connectionOf, type KubeAccess, type KubeConnection } from './connection.js';
import { kubeCall, networkMessage, type HeaderValues } from './kube-http.js';

// JSON in, JSON out, against the apiserver with the connection's credentials. Objects stay the
// plain wire JSON rollguard's core reads, so a Deployment from a watch, a list and a patch response
// all have the same shape.

export type PatchType = 'json' | 'merge' | 'strategic';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

/** A non-2xx answer: the HTTP status and the apiserver's Status reason and message. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** Who the request acts as (impersonation), for the apply button acting as a person. */
export interface Impersonation {
  user: string;
  groups?: readonly string[];
}

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  accept?: string;
  impersonate?: Impersonation | undefined;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 15_000;

export class KubeRest {
  readonly connection: KubeConnection;

  constructor(access: KubeAccess) {
    this.connection = connectionOf(access);
  }

  server(): string {
    return this.connection.server;
  }

  async request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, opts: RequestOptions & { contentType?: string } = {}): Promise<T> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) query.set(k, v);
    const target = query.size === 0 ? path : `${path}${path.includes('?') ? '&' : '?'}${query.toString()}`;
    const headers: HeaderValues = { Accept: opts.accept ?? 'application/json' };
    if (body !== undefined) headers['Content-Type'] = opts.contentType ?? 'application/json';
    const imp = opts.impersonate;
    let answer;
    try {
      answer = await kubeCall(this.connection, {
        method,
        path: target,
        headers: imp === undefined ? headers : impersonationHeaders(headers, imp),
        body: body === undefined ? undefined : JSON.stringify(body),
        timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      });
    } catch (err) {
      throw new KubeApiError(0, 'Unreachable', `cannot reach the API server at ${this.server()}: ${networkMessage(err)}`);
    }
    if (answer.status < 200 || answer.status > 299) throw errorFrom(answer.status, answer.text, `${method} ${path}`);
    return (answer.text === '' ? undefined : JSON.parse(answer.text)) as T;
  }

  get<T>(path: string, opts?: RequestOptions): Promise<T> {
    return this.request<T>('GET', path, undefined, opts);
  }

  create<T>(path: string, body: unknown, opts?: RequestOptions): Promise<T> {
    return this.request<T>('POST', path, body, opts);
  }

  update<T>(path: string, body: unknown, opts?: RequestOptions): Promise<T> {
    return this.request<T>('PUT', path, body, opts);
  }

  patch<T>(path: string, type: PatchType, body: unknown, opts?: RequestOptions): Promise<T> {
    return this.request<T>('PATCH', path, body, { ...opts, contentType: PATCH_CONTENT_TYPES[type] });
  }
}

function impersonationHeaders(headers: HeaderValues, imp: Impersonation): HeaderValues {
  // An array value goes out as repeated headers, one per group, as the apiserver expects.
  const out: HeaderValues = { ...headers, 'Impersonate-User': imp.user };
  if (imp.groups !== undefined && imp.groups.length > 0) out['Impersonate-Group'] = [...imp.groups];
  return out;
}

function errorFrom(status: number, text: string, what: string): KubeApiError {
  let reason = '';
  let message = text.slice(0, 500);
  try {
    const s = JSON.parse(text) as { reason?: string; message?: string };
    reason = s.reason ?? '';
    message = s.message ?? message;
  } catch {
    // not a Status object: keep the start of the body
  }
  return new KubeApiError(status, reason, `${what}: HTTP ${status}${reason === '' ? '' : ` ${reason}`}: ${message}`);
}

export function isStatus(err: unknown, ...statuses: number[]): err is KubeApiError {
  return err instanceof KubeApiError && statuses.includes(err.status);
}

export const paths = {
  deployment: (ns: string, name: string): string => `/apis/apps/v1/namespaces/${ns}/deployments/${name}`,
  replicaSets: (ns: string): string => `/apis/apps/v1/namespaces/${ns}/replicasets`,
  replicaSet: (ns: string, name: string): string => `/apis/apps/v1/namespaces/${ns}/replicasets/${name}`,
  lease: (ns: string, name: string): string => `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${name}`,
  leases: (ns: string): string => `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`,
  events: (ns: string): string => `/api/v1/namespaces/${ns}/events`,
  job: (ns: string, name: string): string => `/apis/batch/v1/namespaces/${ns}/jobs/${name}`,
};
