import type { AuditEvent } from '../../src/timeline/audit-event.js';
import { micro } from '../../test/fixtures/audit/builders.js';
import { controller, ev, job, KUBECTL, MINUTE, type Ids } from './cluster.js';

// What most of a real audit log is: node and leader-election lease renewals, kubelet reads, list
// and watch calls, Events, HPA scale writes, unrelated ConfigMap/Secret writes in other
// namespaces, failed requests, and a CronJob's runs. None of it is a deploy.

const NODES = ['node-1', 'node-2', 'node-3', 'node-4'];
const KUBELET = 'kubelet/v1.31.2 (linux/amd64) kubernetes/5864a46';
const HPA = controller('horizontal-pod-autoscaler');

export interface Workload {
  namespace: string;
  name: string;
}

function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

type Maker = (t: number) => AuditEvent;

/** Background records from `start` to `end`, about one every `meanGapMs`. */
export function backgroundNoise(random: () => number, ids: Ids, workloads: readonly Workload[], start: number, end: number, meanGapMs: number): AuditEvent[] {
  const node = () => pick(random, NODES);
  const workload = () => pick(random, workloads);
  const makers: [number, Maker][] = [
    [30, (t) => { const n = node(); return ev(ids, { verb: 'update', resource: 'leases', namespace: 'kube-node-lease', name: n, at: t, level: 'Metadata', user: `system:node:${n}`, userAgent: KUBELET }); }],
    [8, (t) => ev(ids, { verb: 'update', resource: 'leases', namespace: 'kube-system', name: pick(random, ['kube-controller-manager', 'kube-scheduler']), at: t, level: 'Metadata', user: 'system:kube-controller-manager', userAgent: 'kube-controller-manager/v1.31.2 (linux/amd64) kubernetes/5864a46/leader-election' })],
    [16, (t) => { const w = workload(); const n = node(); return ev(ids, { verb: 'get', resource: 'pods', namespace: w.namespace, name: `${w.name}-${ids.suffix(10)}-${ids.suffix(5)}`, at: t, level: 'Metadata', user: `system:node:${n}`, userAgent: KUBELET }); }],
    [8, (t) => { const w = workload(); return ev(ids, { verb: 'watch', resource: 'configmaps', namespace: w.namespace, at: t, level: 'Metadata', user: `system:node:${node()}`, userAgent: KUBELET, query: `?allowWatchBookmarks=true&resourceVersion=${String(40_000 + Math.floor(random() * 9000))}&timeout=7m33s&watch=true` }); }],
    [5, (t) => { const w = workload(); return ev(ids, { verb: 'get', resource: 'secrets', namespace: w.namespace, name: `${w.name}-tls`, at: t, level: 'Metadata', user: `system:node:${node()}`, userAgent: KUBELET }); }],
    [10, (t) => { const w = workload(); return ev(ids, { verb: 'create', resource: 'events', namespace: w.namespace, name: `${w.name}-${ids.suffix(10)}.${ids.suffix(16)}`, at: t, level: 'Metadata', user: `system:node:${node()}`, userAgent: KUBELET }); }],
    [6, (t) => { const w = workload(); return ev(ids, { verb: pick(random, ['get', 'list'] as const), resource: 'deployments', namespace: w.namespace, ...(random() < 0.5 ? { name: w.name } : {}), at: t, level: 'Metadata', ...pick(random, [{ user: 'alice@example.com', userAgent: KUBECTL }, { user: 'bob@example.com', userAgent: KUBECTL }, { user: 'system:serviceaccount:monitoring:kube-state-metrics', userAgent: 'kube-state-metrics/v2.13.0' }]), query: '' }); }],
    [3, (t) => { const w = workload(); return ev(ids, { verb: 'patch', resource: 'deployments', subresource: 'scale', namespace: w.namespace, name: w.name, at: t, level: 'Metadata', ...HPA }); }],
    [2, (t) => ev(ids, { verb: 'update', resource: 'configmaps', namespace: 'monitoring', name: 'prometheus-rules', at: t, level: 'Request', user: 'system:serviceaccount:monitoring:prometheus-operator', userAgent: 'PrometheusOperator/0.75.0', requestObject: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'prometheus-rules', namespace: 'monitoring' }, data: { 'rules.yaml': `groups: [] # reload ${ids.suffix(6)}` } } })],
    [1, (t) => ev(ids, { verb: 'update', resource: 'secrets', namespace: 'ingress-nginx', name: 'wildcard-tls', at: t, level: 'Metadata', user: 'system:serviceaccount:cert-manager:cert-manager', userAgent: 'cert-manager-certificates-issuing/v1.15.1' })],
    [2, (t) => { const w = workload(); return ev(ids, { verb: 'update', resource: 'deployments', namespace: w.namespace, name: w.name, at: t, code: 409, level: 'Metadata', user: 'system:serviceaccount:monitoring:vpa-updater', userAgent: KUBECTL }); }],
    [1, (t) => ev(ids, { verb: 'get', resource: 'secrets', namespace: 'kube-system', name: 'bootstrap-token-abcdef', at: t, code: 403, level: 'Metadata', user: 'bob@example.com', userAgent: KUBECTL })],
  ];
  const total = makers.reduce((s, [w]) => s + w, 0);
  const out: AuditEvent[] = [];
  for (let t = start; t < end; t += Math.max(50, Math.round(-Math.log(Math.max(random(), 1e-9)) * meanGapMs))) {
    let r = random() * total;
    for (const [weight, make] of makers) {
      r -= weight;
      if (r < 0) {
        out.push(make(t));
        break;
      }
    }
  }
  return out;
}

/** A CronJob's Job every `everyMs`, created by the cronjob-controller and completed a minute later. */
export function cronJobs(ids: Ids, namespace: string, cronJob: string, image: string, command: string[], start: number, end: number, everyMs: number): AuditEvent[] {
  const out: AuditEvent[] = [];
  for (let t = Math.ceil(start / everyMs) * everyMs; t < end; t += everyMs) {
    const name = `${cronJob}-${String(Math.floor(t / MINUTE))}`;
    const created = job(name, namespace, image, { command, labels: { 'batch.kubernetes.io/job-name': name } });
    const done = job(name, namespace, image, { command, labels: { 'batch.kubernetes.io/job-name': name }, status: { startTime: micro(t + 800), completionTime: micro(t + 61_000), succeeded: 1, conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: micro(t + 61_000) }] } });
    out.push(
      ev(ids, { verb: 'create', resource: 'jobs', namespace, name, at: t + 300, ...controller('cronjob-controller'), requestObject: created, responseObject: created }),
      ev(ids, { verb: 'update', resource: 'jobs', subresource: 'status', namespace, name, at: t + 61_000, ...controller('job-controller'), requestObject: done, responseObject: done }),
    );
  }
  return out;
}
