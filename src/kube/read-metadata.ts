import type { KubeObject } from '../core/kube.js';
import { objectPath, type ResourceInfo } from './resources.js';
import { connectionOf, type KubeAccess } from './connection.js';
import { kubeCall, networkMessage } from './kube-http.js';

// Reads one object's metadata from the apiserver as PartialObjectMetadata: labels and annotations
// only, never a Secret's data (F3). Authentication comes from the connection (kubeconfig or service account).

const METADATA_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

export class KubeReadError extends Error {}

function explain(status: number, what: string, body: string): string {
  let message = body;
  try {
    message = (JSON.parse(body) as { message?: string }).message ?? body;
  } catch {
    // not a Status object; keep the raw body
  }
  if (status === 404) return `${what} not found`;
  if (status === 401) return `the API server did not accept the credentials from the kubeconfig (401): ${message}`;
  if (status === 403) return `not allowed to read ${what} (403): ${message}`;
  return `the API server answered ${status} for ${what}: ${message}`;
}

export async function readMetadata(access: KubeAccess, resource: ResourceInfo, namespace: string, name: string): Promise<KubeObject> {
  let conn;
  try {
    conn = connectionOf(access);
  } catch (err) {
    throw new KubeReadError(err instanceof Error ? err.message : String(err));
  }
  const what = `${resource.kind} ${namespace}/${name}`;
  let answer;
  try {
    answer = await kubeCall(conn, { method: 'GET', path: objectPath(resource, namespace, name), headers: { Accept: METADATA_ACCEPT }, timeoutMs: 15_000 });
  } catch (err) {
    throw new KubeReadError(`cannot reach the API server at ${conn.server}: ${networkMessage(err)}`);
  }
  if (answer.status !== 200) throw new KubeReadError(explain(answer.status, what, answer.text));
  try {
    const obj = JSON.parse(answer.text) as KubeObject;
    return { ...obj, kind: resource.kind, apiVersion: resource.group === '' ? resource.version : `${resource.group}/${resource.version}` };
  } catch {
    throw new KubeReadError(`the API server sent a body that is not JSON for ${what}`);
  }
}
