import type { Agent } from 'node:http';
import type { AgentOptions, RequestOptions } from 'node:https';
import { http, https } from '../http/node-http.js';
import type { KubeConfig } from '@kubernetes/client-node';

// What a request to the apiserver needs: where, with which TLS and pooled connections, and with
// which credentials. Built either from the pod's service account (in-cluster.ts, no client-node at
// all: importing it costs a long-running process ~90 MB for a generated API rollguard never calls)
// or from a kubeconfig, whose every auth method (exec plugins, OIDC, client certificates) client-node
// handles (fromKubeConfig).

export interface KubeRequestOptions {
  agent: Agent;
  headers: Record<string, string>;
  /** user:password, for a kubeconfig with basic auth. */
  auth?: string | undefined;
}

export interface KubeConnection {
  /** The apiserver's base URL, without a trailing slash. */
  readonly server: string;
  /** For messages: "the kubeconfig <file>", "the pod's service account". */
  readonly source: string;
  /** The kubeconfig user's name, when there is one (the CLI's "applied by"). */
  readonly userName: string | undefined;
  /** Credentials for one request, fresh: tokens rotate and exec plugins refresh theirs. */
  requestOptions(): Promise<KubeRequestOptions>;
}

/** Either form a caller may hold: a connection, or a client-node KubeConfig (the CLI, the tests). */
export type KubeAccess = KubeConnection | KubeConfig;

const byKubeConfig = new WeakMap<KubeConfig, KubeConnection>();

export function connectionOf(access: KubeAccess): KubeConnection {
  if ('requestOptions' in access) return access;
  let conn = byKubeConfig.get(access);
  if (conn === undefined) {
    conn = fromKubeConfig(access);
    byKubeConfig.set(access, conn);
  }
  return conn;
}

export class NoClusterError extends Error {}

/** Pooled connections: without keep-alive every request would pay a TCP and TLS handshake. */
export function pooledAgent(server: string, tls: AgentOptions): Agent {
  const common = { keepAlive: true, maxSockets: 32, maxFreeSockets: 8 };
  return server.startsWith('http:') ? new http.Agent(common) : new https.Agent({ ...tls, ...common });
}

/**
 * Uses client-node only through a KubeConfig instance the caller loaded, so this module never
 * imports it at run time. The TLS material is read once into a pooled agent of our own; the
 * credentials are asked of client-node for every request (it caches exec and OIDC tokens).
 */
export function fromKubeConfig(kc: KubeConfig): KubeConnection {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new NoClusterError('the kubeconfig has no current cluster (set --kubeconfig and --context)');
  const server = cluster.server.replace(/\/+$/, '');
  let agent: Agent | undefined;
  return {
    server,
    source: `the kubeconfig's cluster ${cluster.name}`,
    userName: kc.getCurrentUser()?.name,
    async requestOptions(): Promise<KubeRequestOptions> {
      const opts: RequestOptions = { headers: {} };
      await kc.applyToHTTPSOptions(opts);
      // A proxy (proxy-url) needs client-node's own agent; otherwise ours, which pools.
      agent ??= cluster.proxyUrl !== undefined && cluster.proxyUrl !== '' && opts.agent instanceof http.Agent
        ? opts.agent
        : pooledAgent(server, { ca: opts.ca, cert: opts.cert, key: opts.key, servername: opts.servername, ...(opts.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: opts.rejectUnauthorized }) });
      return { agent, headers: { ...(opts.headers as Record<string, string>) }, auth: opts.auth ?? undefined };
    },
  };
}
