import type { Container, Deployment, Job, PodSpec } from '../../src/core/kube.js';
import type { ConfigChange, JobRun } from '../../src/core/change-events.js';

// Builders for the objects tests reason about, shaped as the apiserver returns them.

export const T0 = Date.parse('2026-03-02T10:00:00Z');
export const min = (n: number): number => T0 + n * 60_000;

export function container(overrides: Partial<Container> = {}): Container {
  return { name: 'app', image: 'registry.example/shop/checkout:1.4.0', ...overrides };
}

export function deployment(opts: {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  replicas?: number;
  image?: string;
  pod?: Partial<PodSpec>;
  paused?: boolean;
  strategy?: unknown;
  status?: Deployment['status'];
} = {}): Deployment {
  const name = opts.name ?? 'checkout';
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: opts.namespace ?? 'shop',
      labels: opts.labels ?? { 'app.kubernetes.io/name': name },
      annotations: opts.annotations ?? {},
      generation: 4,
    },
    spec: {
      replicas: opts.replicas ?? 6,
      selector: { matchLabels: { app: name } },
      ...(opts.paused !== undefined ? { paused: opts.paused } : {}),
      ...(opts.strategy !== undefined ? { strategy: opts.strategy } : {}),
      template: {
        metadata: { labels: { app: name } },
        spec: {
          ...opts.pod,
          containers: (opts.pod?.containers ?? [container()]).map((c, i) => (i === 0 && opts.image ? { ...c, image: opts.image } : c)),
        },
      },
    },
    status: opts.status ?? { observedGeneration: 4, replicas: 6, updatedReplicas: 6, readyReplicas: 6, availableReplicas: 6 },
  };
}

export function withConfig(configMap: string, secret?: string): Partial<PodSpec> {
  return {
    containers: [
      container({
        envFrom: [{ configMapRef: { name: configMap } }],
        ...(secret ? { env: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: secret, key: 'password' } } }] } : {}),
      }),
    ],
  };
}

export function configChange(overrides: Partial<ConfigChange> & { name: string }): ConfigChange {
  return { type: 'config-change', at: min(-5), namespace: 'shop', kind: 'ConfigMap', action: 'update', content: 'changed', ...overrides };
}

export function job(name: string, opts: { labels?: Record<string, string>; annotations?: Record<string, string>; image?: string; command?: string[] } = {}): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'shop', labels: opts.labels ?? {}, annotations: opts.annotations ?? {} },
    spec: {
      template: {
        spec: { containers: [container({ name: 'job', image: opts.image ?? 'busybox:1.36', ...(opts.command ? { command: opts.command } : {}) })] },
      },
    },
  };
}

export function jobRun(name: string, startedAt: number, finishedAt: number | undefined, j: Job = job(name)): JobRun {
  return { type: 'job-run', namespace: 'shop', name, startedAt, finishedAt, job: j };
}
