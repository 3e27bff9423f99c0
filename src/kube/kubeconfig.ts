import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { inPod } from './service-account.js';

// How every rollguard verb that talks to a cluster finds it: --kubeconfig FILE, else KUBECONFIG,
// else the pod's service account (in a pod), else ~/.kube/config; then --context if given. Unlike
// client-node's loadFromDefault, finding nothing is an error rather than a silent localhost:8080.

export interface KubeConfigOptions {
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

export class KubeConfigError extends Error {}

interface Source {
  /** For messages: "the kubeconfig <name>". */
  name: string;
  read(kc: KubeConfig): void;
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
  if (inPod(root)) return { name: "of the pod's service account", read: (kc) => { kc.loadFromCluster(root); } };
  const home = process.env.HOME;
  const homeConfig = home === undefined || home === '' ? undefined : join(home, '.kube', 'config');
  if (homeConfig !== undefined && existsSync(homeConfig)) return { name: homeConfig, read: (kc) => { kc.loadFromFile(homeConfig); } };
  throw new KubeConfigError('no kubeconfig: pass --kubeconfig FILE, set KUBECONFIG, or run in a pod with a service account (~/.kube/config does not exist either)');
}

/** `root` prefixes the service-account files (tests only). */
export function loadKubeConfig(opts: KubeConfigOptions, root = ''): KubeConfig {
  const source = findSource(opts, root);
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
  return kc;
}
