import { Option } from 'commander';

// Where `rollguard webhook` and `rollguard agent` listen (--host). In a Pod, every interface: the
// kubelet's probes, the Service and Prometheus all reach the pod IP, and Node's unspecified address
// also covers IPv6-only clusters. Elsewhere (a local run) the loopback address: nothing on the
// machine's network needs the health port, the metrics or the decision page of a laptop's agent;
// an apiserver in a container or a VM that must call a local webhook gets `--host 0.0.0.0`. The
// rollguard image also listens on every interface: a container's loopback is its own, so a
// published port (podman/docker run -p) could never reach a server bound to it.

export const LOOPBACK_HOST = '127.0.0.1';

/** The unspecified addresses: listening there is listening on every interface. */
export const WILDCARDS: ReadonlySet<string> = new Set(['0.0.0.0', '::']);

/** Every Pod gets KUBERNETES_SERVICE_HOST from the kubelet, whatever its enableServiceLinks. */
export function runsInPod(env: NodeJS.ProcessEnv): boolean {
  return (env.KUBERNETES_SERVICE_HOST ?? '') !== '';
}

/** Set by the rollguard image (its Dockerfile), which runs in a network namespace of its own. */
export const IN_IMAGE_ENV = 'ROLLGUARD_IN_CONTAINER';

/** The address to listen on; undefined is every interface (Node's unspecified address). */
export function listenHost(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (flag !== undefined) return flag;
  return runsInPod(env) || env[IN_IMAGE_ENV] === 'true' ? undefined : LOOPBACK_HOST;
}

export function hostOption(): Option {
  return new Option('--host <address>', `address to listen on (default: every interface in a Pod or the rollguard image, ${LOOPBACK_HOST} elsewhere; 0.0.0.0 or :: opens a local run to the network)`);
}
