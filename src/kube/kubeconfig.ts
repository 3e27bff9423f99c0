import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { fromKubeConfig, type KubeConnection } from './connection.js';
import { inClusterConnection, InClusterError } from './in-cluster.js';
import { serviceAccountMounted } from './service-account.js';

// How every rollguard verb that talks to a cluster finds it: --kubeconfig FILE, else KUBECONFIG,
// else the pod's service account (in a pod), else ~/.kube/config; then --context if given. Unlike
// client-node's loadFromDefault, finding nothing is an error rather than a silent localhost:8080.
// The service account is read without client-node, which is loaded only for a kubeconfig: its
// import alone costs a long-running process about 90 MB.

export interface KubeConfigOptions {
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

export class KubeConfigError extends Error {}

interface Source {
  /** For messages: "the kubeconfig <name>". */
  name: string;
  /** Reads a kubeconfig; absent for the pod's service account. */
  read?: (kc: KubeConfig) => void;
}

function findSource(opts: KubeConfigOptions, root: string): Source {
  const file = opts.kubeconfig;
  if (file !== undefined) {
    if (!existsSync(file)) throw new KubeConfigError(`kubeconfig file ${file} does not exist`);
    return { name: file, read: (kc) => { kc.loadFromFile(file); } };
  }
  const envFiles = (process.env.KUBECONFIG ?? '').split(delimiter).filter((f) => f !== '');
  if (envFiles.length > 0) {
    const missing = envFiles.find((f) => !existsSync(f));
    if (missing !== undefined) throw new KubeConfigError(`KUBECONFIG names ${missing}, which does not exist`);
    // client-node reads and merges the KUBECONFIG files as kubectl does.
    return { name: `from KUBECONFIG (${envFiles.join(delimiter)})`, read: (kc) => { kc.loadFromDefault(); } };
  }
  if (serviceAccountMounted(root)) return { name: "of the pod's service account" };
  const home = process.env.HOME;
  const homeConfig = home === undefined || home === '' ? undefined : join(home, '.kube', 'config');
  if (homeConfig !== undefined && existsSync(homeConfig)) return { name: homeConfig, read: (kc) => { kc.loadFromFile(homeConfig); } };
  throw new KubeConfigError('no kubeconfig: pass --kubeconfig FILE, set KUBECONFIG, or run in a pod with a service account (~/.kube/config does not exist either)');
}

/** `root` prefixes the service-account files (tests only). */
export async function loadKubeConnection(opts: KubeConfigOptions, root = ''): Promise<KubeConnection> {
  const source = findSource(opts, root);
  if (source.read === undefined) {
    if (opts.context !== undefined) throw new KubeConfigError(`--context ${opts.context} names a kubeconfig context, but there is no kubeconfig: in a pod rollguard uses its service account (pass --kubeconfig FILE to use another)`);
    try {
      return inClusterConnection(root);
    } catch (err) {
      if (err instanceof InClusterError) throw new KubeConfigError(err.message, { cause: err });
      throw err;
    }
  }
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  try {
    source.read(kc);
  } catch (err) {
    throw new KubeConfigError(`cannot load the kubeconfig ${source.name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (opts.context !== undefined) {
    if (kc.getContextObject(opts.context) === null) {
      const known = kc.getContexts().map((c) => c.name).join(', ');
      throw new KubeConfigError(`context "${opts.context}" is not in the kubeconfig ${source.name} (contexts: ${known === '' ? 'none' : known})`);
    }
    kc.setCurrentContext(opts.context);
  }
  try {
    return fromKubeConfig(kc);
  } catch (err) {
    throw new KubeConfigError(`the kubeconfig ${source.name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
