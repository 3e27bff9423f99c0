import * as http from 'node:http';
import * as https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../core/kube.js';
import { objectPath, type ResourceInfo } from './resources.js';

// Reads one object's metadata from the apiserver as PartialObjectMetadata: labels and annotations
// only, never a Secret's data (F3). Authentication comes from the kubeconfig via client-node.

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

export async function readMetadata(kc: KubeConfig, resource: ResourceInfo, namespace: string, name: string): Promise<KubeObject> {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new KubeReadError('the kubeconfig has no current cluster (set KUBECONFIG or --kubeconfig, and --context)');
  const url = new URL(objectPath(resource, namespace, name), cluster.server);
  const opts: https.RequestOptions = { method: 'GET', headers: { Accept: METADATA_ACCEPT } };
  try {
    await kc.applyToHTTPSOptions(opts);
  } catch (err) {
    throw new KubeReadError(`cannot use the kubeconfig for ${cluster.server}: ${(err as Error).message}`);
  }
  const what = `${resource.kind} ${namespace}/${name}`;
  const transport = url.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const req = transport.request(url, { ...opts, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          reject(new KubeReadError(explain(status, what, body)));
          return;
        }
        try {
          const obj = JSON.parse(body) as KubeObject;
          resolve({ ...obj, kind: resource.kind, apiVersion: resource.group === '' ? resource.version : `${resource.group}/${resource.version}` });
        } catch {
          reject(new KubeReadError(`the API server sent a body that is not JSON for ${what}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out after 15s')));
    req.on('error', (err) => {
      reject(new KubeReadError(`cannot reach the API server at ${cluster.server}: ${err.message}`));
    });
    req.end();
  });
}
