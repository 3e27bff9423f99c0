import { HttpMethod, RequestContext, type KubeConfig } from '@kubernetes/client-node';
import { fetch } from 'undici';

// JSON in, JSON out, against the apiserver with the kubeconfig's credentials (client-node does
// the authentication and TLS). Objects stay the plain wire JSON rollguard's core reads, so a
// Deployment from a watch, a list and a patch response all have the same shape.

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
  /** One connection pool for every request: a fresh one per request would cost a TLS handshake each. */
  private dispatcher: ReturnType<RequestContext['getDispatcher']> | undefined;

  constructor(readonly kubeConfig: KubeConfig) {}

  server(): string {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (cluster === null) throw new KubeApiError(0, 'NoCluster', 'the kubeconfig has no current cluster (set --kubeconfig and --context)');
    return cluster.server.replace(/\/+$/, '');
  }

  async request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, opts: RequestOptions & { contentType?: string } = {}): Promise<T> {
    const url = new URL(this.server() + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const ctx = new RequestContext(url.toString(), HttpMethod[method]);
    await this.kubeConfig.applySecurityAuthentication(ctx);
    const headers: Record<string, string> = { ...ctx.getHeaders(), Accept: opts.accept ?? 'application/json' };
    if (body !== undefined) headers['Content-Type'] = opts.contentType ?? 'application/json';
    const imp = opts.impersonate;
    const init = {
      method,
      headers: imp === undefined ? headers : impersonationHeaders(headers, imp),
      body: body === undefined ? undefined : JSON.stringify(body),
      dispatcher: (this.dispatcher ??= ctx.getDispatcher()),
      signal: AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    };
    let res;
    try {
      res = await fetch(url, init);
    } catch (err) {
      throw new KubeApiError(0, 'Unreachable', `cannot reach the API server at ${url.origin}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`);
    }
    const text = await res.text();
    if (res.status < 200 || res.status > 299) throw errorFrom(res.status, text, `${method} ${path}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
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

function impersonationHeaders(headers: Record<string, string>, imp: Impersonation): Record<string, string> & { 'Impersonate-Group'?: string[] } {
  // undici sends an array value as repeated headers, one per group, as the apiserver expects.
  const out: Record<string, string> & { 'Impersonate-Group'?: string[] } = { ...headers, 'Impersonate-User': imp.user };
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
