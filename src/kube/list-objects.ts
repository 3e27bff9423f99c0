import type { KubernetesObject } from '@kubernetes/client-node';
import { connectionOf, type KubeAccess } from './connection.js';
import { kubeCall } from './kube-http.js';

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

export interface Listed<T> {
  resourceVersion: string | undefined;
  items: T[];
}

/**
 * Objects per list page, fitted to the objects' size. A whole-cluster list in one response is one
 * body the size of every object at once (tens of MB at 10,000 Deployments), and the RSS it takes
 * stays after the GC. A page is kept below V8's large-object threshold (128 KB): then the page's
 * text is allocated in the young generation like the objects parsed from it, and all of it dies
 * there once `keep` has copied out what is kept. A larger page's text goes straight to the
 * large-object space, which only a full GC frees, so every page of an initial sync stayed until
 * then and the old generation grew by tens of MB (and the body's Buffer, above glibc's mmap
 * threshold, fragmented the native heap). So each page asks for about PAGE_BYTES of JSON, at the
 * size per object the previous page had.
 */
export const PAGE_BYTES = 96 * 1024;
export const FIRST_PAGE_SIZE = 10;
export const MIN_PAGE_SIZE = 10;
export const MAX_PAGE_SIZE = 500;

/** The limit for the next page, from the bytes and items of the page just read. */
export function nextPageSize(bytes: number, items: number): number {
  if (items <= 0 || bytes <= 0) return FIRST_PAGE_SIZE;
  return Math.max(MIN_PAGE_SIZE, Math.min(MAX_PAGE_SIZE, Math.floor(PAGE_BYTES / (bytes / items))));
}

/** `path` with the paging parameters added to whatever query it has. */
export function withQuery(path: string, params: Record<string, string | undefined>): string {
  const [base, query = ''] = path.split('?', 2) as [string, string?];
  const search = new URLSearchParams(query);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) search.set(k, v);
  return `${base}?${search.toString()}`;
}

const LIST_TIMEOUT_MS = 60_000;

/**
 * Lists every object at `path`, page by page (the apiserver's limit/continue), keeping of each item
 * what `keep` returns. All pages are of one snapshot: the resourceVersion of the first page is the
 * list's. A continue token that expired mid-list (410) fails the list; the caller lists again.
 * `pageSize` fixes the objects per page; by default each page is fitted to the size of the last.
 */
export async function listObjects<T extends KubernetesObject>(access: KubeAccess, path: string, asMetadata: boolean, keep: (item: T) => T = (item) => item, pageSize?: number): Promise<Listed<T>> {
  const conn = connectionOf(access);
  const items: T[] = [];
  let resourceVersion: string | undefined;
  let token: string | undefined;
  let limit = pageSize ?? FIRST_PAGE_SIZE;
  do {
    const answer = await kubeCall(conn, {
      method: 'GET',
      path: withQuery(path, { limit: String(limit), continue: token }),
      headers: { Accept: asMetadata ? LIST_ACCEPT : 'application/json' },
      timeoutMs: LIST_TIMEOUT_MS,
    });
    if (answer.status !== 200) {
      const why = answer.status === 410 ? ' (the list changed too much while it was paged; it is listed again)' : '';
      throw Object.assign(new Error(`listing ${path} failed: HTTP ${String(answer.status)}${why}`), { statusCode: answer.status });
    }
    const body = JSON.parse(answer.text) as { kind?: unknown; metadata?: { resourceVersion?: string; continue?: string }; items?: T[] };
    if (asMetadata && body.kind !== 'PartialObjectMetadataList') {
      throw new Error(`the API server answered ${path} with ${String(body.kind)} instead of PartialObjectMetadataList; rollguard never caches full objects it asked metadata of (F3)`);
    }
    resourceVersion ??= body.metadata?.resourceVersion;
    const page = body.items ?? [];
    for (const item of page) items.push(keep(asMetadata ? metadataOnly(item) : item));
    if (pageSize === undefined) limit = nextPageSize(answer.text.length, page.length);
    token = body.metadata?.continue === '' ? undefined : body.metadata?.continue;
  } while (token !== undefined);
  return { resourceVersion, items };
}
