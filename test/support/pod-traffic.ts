import type { Stack } from './rollguard-stack.js';
import type { Traffic } from './test-exporter.js';

// Traffic per pod, following the pods the ReplicaSet controller names (there is no kubelet, so the
// names are only known once the controller has created them): every running pod of the app gets
// the traffic `trafficOf` gives it, and a pod that is terminating or gone stops taking requests.

interface PodItem {
  metadata?: { name?: string; deletionTimestamp?: string };
  spec?: { containers?: { image?: string }[] };
  status?: { phase?: string };
}

export interface PodTraffic {
  /** The pods given traffic so far, by name, with their image. */
  readonly seen: ReadonlyMap<string, string>;
  stop(): Promise<void>;
}

export function followPods(stack: Stack, app: string, trafficOf: (image: string, pod: string) => Partial<Traffic>, everyMs = 200): PodTraffic {
  const seen = new Map<string, string>();
  const live = new Set<string>();
  const state = { stopped: false };
  const tick = async (): Promise<void> => {
    const pods = await stack.admin.get<{ items: PodItem[] }>(`/api/v1/namespaces/${stack.ns}/pods?labelSelector=${encodeURIComponent(`app=${app}`)}`);
    const running = new Set<string>();
    for (const p of pods.items) {
      const name = p.metadata?.name;
      const image = p.spec?.containers?.[0]?.image ?? '';
      if (name === undefined || p.metadata?.deletionTimestamp !== undefined || p.status?.phase !== 'Running') continue;
      running.add(name);
      if (!live.has(name)) {
        stack.exporter.set(stack.ns, app, { rps: 50, errorShare: 0.002, ...trafficOf(image, name) }, name);
        seen.set(name, image);
        live.add(name);
      }
    }
    for (const name of [...live].filter((n) => !running.has(n))) {
      stack.exporter.set(stack.ns, app, { rps: 0 }, name);
      live.delete(name);
    }
  };
  const loop = (async () => {
    while (!state.stopped) {
      await tick().catch(() => undefined);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    seen,
    async stop() {
      state.stopped = true;
      await loop;
    },
  };
}
