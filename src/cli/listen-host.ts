import { Option } from 'commander';

// Where `rollguard webhook` and `rollguard agent` listen (--host). In a Pod, every interface: the
// kubelet's probes, the Service and Prometheus all reach the pod IP, and Node's unspecified address
// also covers IPv6-only clusters. Elsewhere (a local run) the loopback address: nothing on the
// machine's network needs the health port, the metrics or the decision page of a laptop's agent;
// an apiserver in a container or a VM that must call a local webhook gets `--host 0.0.0.0`.

export const LOOPBACK_HOST = '127.0.0.1';

/** The unspecified addresses: listening there is listening on every interface. */
export const WILDCARDS: ReadonlySet<string> = new Set(['0.0.0.0', '::']);

/** Every Pod gets KUBERNETES_SERVICE_HOST from the kubelet, whatever its enableServiceLinks. */
export function inPod(env: NodeJS.ProcessEnv): boolean {
  return (env.KUBERNETES_SERVICE_HOST ?? '') !== '';
}

/** The address to listen on; undefined is every interface (Node's unspecified address). */
export function listenHost(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (flag !== undefined) return flag;
  return inPod(env) ? undefined : LOOPBACK_HOST;
}

export function hostOption(): Option {
  return new Option('--host <address>', `address to listen on (default: every interface in a Pod, ${LOOPBACK_HOST} elsewhere; 0.0.0.0 or :: opens a local run to the network)`);
}
