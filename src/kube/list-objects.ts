import { HttpMethod, KubeConfig, RequestContext, Watch, type KubernetesObject } from '@kubernetes/client-node';
import { fetch } from 'undici';

// Listing and watching as the wire JSON, optionally as PartialObjectMetadata: then the apiserver
// sends metadata only, and anything else that arrives anyway is dropped before it is kept (F3: a
// Secret's data is never requested nor stored).

const META = 'g=meta.k8s.io;v=v1';
export const LIST_ACCEPT = `application/json;as=PartialObjectMetadataList;${META}`;
export const WATCH_ACCEPT = `application/json;as=PartialObjectMetadata;${META}`;

/** Only apiVersion, kind and metadata survive: whatever else a server sends is never kept. */
export function metadataOnly<T extends KubernetesObject>(obj: T): T {
  return { apiVersion: obj.apiVersion, kind: obj.kind, metadata: obj.metadata } as T;
}

/** A KubeConfig whose requests (the client-node Watch's) ask for metadata only. */
export class MetadataWatchConfig extends KubeConfig {
  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    context.setHeaderParam('Accept', WATCH_ACCEPT);
  }
}

/** Drops everything but metadata from watch events before client-node's cache stores them. */
export class MetadataWatch extends Watch {
  override watch(path: string, queryParams: Record<string, string | number | boolean | undefined>, callback: (phase: string, apiObj: KubernetesObject, watchObj?: unknown) => void, done: (err: unknown) => void): Promise<AbortController> {
    return super.watch(path, queryParams, (phase, obj: KubernetesObject) => {
      callback(phase, phase === 'ERROR' ? obj : metadataOnly(obj));
    }, done);
  }
}

export interface Listed<T> {
  resourceVersion: string | undefined;
  items: T[];
}

/**
 * Objects per list page. A whole-cluster list in one response is one body the size of every object
 * at once (tens of MB at 10,000 Deployments), and the RSS it takes stays after the GC; pages keep
 * that to one page, each page trimmed before the next is read.
 */
export const LIST_PAGE_SIZE = 500;

function pageUrl(base: string, limit: number, token: string | undefined): string {
  const url = new URL(base);
  url.searchParams.set('limit', String(limit));
  if (token !== undefined) url.searchParams.set('continue', token);
  return url.toString();
}

/**
 * Lists every object at `path`, page by page (the apiserver's limit/continue), keeping of each item
 * what `keep` returns. All pages are of one snapshot: the resourceVersion of the first page is the
 * list's. A continue token that expired mid-list (410) fails the list; the caller lists again.
 */
export async function listObjects<T extends KubernetesObject>(kc: KubeConfig, path: string, asMetadata: boolean, keep: (item: T) => T = (item) => item, pageSize = LIST_PAGE_SIZE): Promise<Listed<T>> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const base = `${cluster.server}${path}`;
  const items: T[] = [];
  let resourceVersion: string | undefined;
  let token: string | undefined;
  do {
    const url = pageUrl(base, pageSize, token);
    const ctx = new RequestContext(url, HttpMethod.GET);
    await kc.applySecurityAuthentication(ctx);
    ctx.setHeaderParam('Accept', asMetadata ? LIST_ACCEPT : 'application/json');
    const res = await fetch(url, { headers: ctx.getHeaders(), dispatcher: ctx.getDispatcher() });
    if (res.status !== 200) {
      await res.body?.cancel();
      const why = res.status === 410 ? ' (the list changed too much while it was paged; it is listed again)' : '';
      throw Object.assign(new Error(`listing ${path} failed: HTTP ${String(res.status)}${why}`), { statusCode: res.status });
    }
    const body = (await res.json()) as { kind?: unknown; metadata?: { resourceVersion?: string; continue?: string }; items?: T[] };
    if (asMetadata && body.kind !== 'PartialObjectMetadataList') {
      throw new Error(`the API server answered ${path} with ${String(body.kind)} instead of PartialObjectMetadataList; rollguard never caches full objects it asked metadata of (F3)`);
    }
    resourceVersion ??= body.metadata?.resourceVersion;
    for (const item of body.items ?? []) items.push(keep(asMetadata ? metadataOnly(item) : item));
    token = body.metadata?.continue === '' ? undefined : body.metadata?.continue;
  } while (token !== undefined);
  return { resourceVersion, items };
}
