import { createHash } from 'node:crypto';
import { ApiException, CoreV1Api, PatchStrategy, makeInformer, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';

// A kubelet stand-in for the control plane without nodes: watches the Pods of one namespace and
// reports each new one Running and Ready through the status subresource, as a kubelet would once
// its containers pass their readiness probes. The real ReplicaSet and deployment controllers then
// count it available, so rollouts progress and complete. A hold predicate keeps chosen Pods
// Pending (e.g. the new image's) to freeze a rollout half way.

export type PodPredicate = (pod: V1Pod) => boolean;

export interface KubeletOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Pods for which this returns true are left Pending (until setHold changes it). */
  hold?: PodPredicate;
}

export interface Kubelet {
  /** Names of the Pods marked ready, in order. */
  readonly readied: readonly string[];
  /** Failed status patches (a Pod deleted meanwhile is not an error). */
  readonly errors: readonly Error[];
  /** Replaces the hold predicate and marks every Pod it no longer holds. */
  setHold(hold: PodPredicate | undefined): void;
  /** The known Pods that are held Pending right now. */
  held(): V1Pod[];
  stop: () => Promise<void>;
}

let nextIp = 1;

/** A distinct address in 127.0.0.0/8 per Pod (127.1.0.1, 127.1.0.2, ...). */
function podIp(): string {
  const n = nextIp++;
  return `127.1.${String((n >> 8) & 255)}.${String(n & 255)}`;
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function runningStatus(pod: V1Pod): object {
  const now = new Date().toISOString();
  const ip = podIp();
  const uid = pod.metadata?.uid ?? '';
  return {
    status: {
      phase: 'Running',
      hostIP: '127.0.0.1',
      podIP: ip,
      podIPs: [{ ip }],
      startTime: now,
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastTransitionTime: now })),
      containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
        name: c.name,
        image: c.image,
        imageID: `${c.image ?? ''}@sha256:${createHash('sha256').update(c.image ?? '').digest('hex')}`,
        containerID: `containerd://${createHash('sha256').update(`${uid}/${c.name}`).digest('hex')}`,
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
      })),
    },
  };
}

export async function startKubelet(opts: KubeletOptions): Promise<Kubelet> {
  const { kubeConfig, namespace } = opts;
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const informer = makeInformer<V1Pod>(kubeConfig, `/api/v1/namespaces/${namespace}/pods`, () => core.listNamespacedPod({ namespace }));
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  let hold = opts.hold;
  let stopped = false;
  const readied: string[] = [];
  const errors: Error[] = [];
  const marked = new Set<string>();
  const inFlight = new Map<string, Promise<void>>();

  const isHeld = (pod: V1Pod) => hold?.(pod) ?? false;

  const consider = (pod: V1Pod) => {
    const uid = pod.metadata?.uid;
    const name = pod.metadata?.name;
    if (stopped || uid === undefined || name === undefined) return;
    if (pod.metadata?.deletionTimestamp !== undefined || isReady(pod) || marked.has(uid) || inFlight.has(uid) || isHeld(pod)) return;
    const patched = core
      .patchNamespacedPodStatus({ name, namespace, body: runningStatus(pod) }, mergePatch)
      .then(
        () => {
          marked.add(uid);
          readied.push(name);
        },
        (err: unknown) => {
          if (err instanceof ApiException && err.code === 404) return;
          errors.push(new Error(`marking pod ${namespace}/${name} ready failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
        },
      )
      .finally(() => inFlight.delete(uid));
    inFlight.set(uid, patched);
  };

  informer.on('add', consider);
  informer.on('update', consider);
  // A broken watch stops the informer; start it again (it re-lists) until stop().
  informer.on('error', () => {
    if (stopped) return;
    setTimeout(() => {
      if (!stopped) informer.start().catch(() => undefined);
    }, 500);
  });
  await informer.start();

  return {
    readied,
    errors,
    setHold(next) {
      hold = next;
      for (const pod of informer.list(namespace)) consider(pod);
    },
    held: () => informer.list(namespace).filter((p) => !isReady(p) && p.metadata?.deletionTimestamp === undefined && isHeld(p)),
    async stop() {
      stopped = true;
      await informer.stop();
      await Promise.all(inFlight.values());
    },
  };
}
