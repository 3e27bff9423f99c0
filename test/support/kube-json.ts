import { HttpMethod, RequestContext } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { fetch } from 'undici';

// Plain-JSON requests with a kubeconfig's credentials and TLS, for tests that write manifests as
// object literals (client-node's typed create calls want its model class instances).

export class KubeJsonError extends Error {
  override readonly name = 'KubeJsonError';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export type KubeMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export async function kubeJson<T>(kc: KubeConfig, method: KubeMethod, path: string, body?: unknown, opts: { contentType?: string; timeoutMs?: number } = {}): Promise<T> {
  const server = kc.getCurrentCluster()?.server;
  if (server === undefined) throw new Error('the kubeconfig has no current cluster');
  const url = `${server.replace(/\/+$/, '')}${path}`;
  const ctx = new RequestContext(url, HttpMethod[method]);
  await kc.applySecurityAuthentication(ctx);
  const headers: Record<string, string> = { ...ctx.getHeaders(), accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    dispatcher: ctx.getDispatcher(),
    signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
  });
  const text = await res.text();
  if (!res.ok) {
    let status: { reason?: string; message?: string } = {};
    try {
      status = JSON.parse(text) as typeof status;
    } catch {
      // not a Status object
    }
    throw new KubeJsonError(res.status, status.reason ?? '', `${method} ${path}: ${String(res.status)} ${status.message ?? text}`);
  }
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** POSTs a manifest to its collection path, e.g. /apis/apps/v1/namespaces/NS/deployments. */
export function createObject<T = unknown>(kc: KubeConfig, collectionPath: string, manifest: unknown): Promise<T> {
  return kubeJson<T>(kc, 'POST', collectionPath, manifest);
}
