import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { defaultedDeploymentSpec } from '../test/fixtures/audit/builders.js';
import { rng } from '../test/support/metric-scenarios.js';

// A generated kube-apiserver audit log for the replay benchmark, shaped like a busy cluster's:
// mostly reads, node leases and Events at Metadata/Request level, a steady stream of
// deployments/status updates carrying whole Deployments (RequestResponse), ConfigMap and Secret
// writes, Jobs, some failed requests, RequestReceived records, a few broken lines, timestamps a
// little out of order, and ~1,000 deploys across 400 Deployments. Deterministic for a seed.

export interface LogMix {
  label: string;
  share: number;
}

const T0 = Date.parse('2026-03-02T00:00:00Z');
const NAMESPACES = Array.from({ length: 40 }, (_, i) => `team-${i}`);
const DEPLOYMENTS = Array.from({ length: 400 }, (_, i) => ({ ns: NAMESPACES[i % NAMESPACES.length] ?? 'default', name: `svc-${i}` }));

function deployment(ns: string, name: string, version: number, generation: number, status: { updated: number; available: number; replicas: number }): Record<string, unknown> {
  const defaults = defaultedDeploymentSpec([
    {
      name: 'app',
      image: `registry.example/${ns}/${name}:1.${version}.0`,
      ports: [{ containerPort: 8080, protocol: 'TCP' }],
      env: [{ name: 'LOG_LEVEL', value: 'info' }, { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: `${name}-db`, key: 'password' } } }],
      envFrom: [{ configMapRef: { name: `${name}-config` } }],
      resources: { limits: { cpu: '1', memory: '512Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
      readinessProbe: { httpGet: { path: '/ready', port: 8080, scheme: 'HTTP' }, periodSeconds: 5, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
    },
  ]);
  return {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: {
      name,
      namespace: ns,
      uid: `0b6d${generation}-${name}`,
      resourceVersion: String(100000 + generation),
      generation,
      creationTimestamp: '2026-01-10T09:00:00Z',
      labels: { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': ns },
      annotations: { 'deployment.kubernetes.io/revision': String(version) },
      managedFields: [
        { manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'apps/v1', time: '2026-01-10T09:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': {} }, 'f:spec': { 'f:template': {} } } },
        { manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'apps/v1', time: '2026-03-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:status': { 'f:replicas': {} } }, subresource: 'status' },
      ],
    },
    spec: {
      replicas: 3,
      selector: { matchLabels: { 'app.kubernetes.io/name': name } },
      template: { metadata: { creationTimestamp: null, labels: { 'app.kubernetes.io/name': name } }, spec: defaults.template.spec },
      ...defaults.rest,
    },
    status: {
      observedGeneration: generation,
      replicas: status.replicas,
      updatedReplicas: status.updated,
      readyReplicas: status.available,
      availableReplicas: status.available,
      conditions: [
        { type: 'Available', status: 'True', lastUpdateTime: '2026-03-01T00:00:00Z', lastTransitionTime: '2026-03-01T00:00:00Z', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' },
        { type: 'Progressing', status: 'True', lastUpdateTime: '2026-03-01T00:00:00Z', lastTransitionTime: '2026-03-01T00:00:00Z', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${name}-5d8f7b9c4" has successfully progressed.` },
      ],
    },
  };
}

interface DeployState {
  version: number;
  generation: number;
  rolling: number; // status updates left in the current rollout
}

export async function generateAuditLog(path: string, total: number, seed = 1): Promise<{ bytes: number; mix: LogMix[] }> {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const out = createWriteStream(path);
  const counts = new Map<string, number>();
  const states = DEPLOYMENTS.map((): DeployState => ({ version: 1, generation: 1, rolling: 0 }));
  let bytes = 0;
  let id = 0;
  const write = async (label: string, line: string) => {
    counts.set(label, (counts.get(label) ?? 0) + 1);
    bytes += line.length + 1;
    if (!out.write(line + '\n')) await once(out, 'drain');
  };
  const stamp = (ms: number) => new Date(ms).toISOString().replace('Z', '412Z');
  const event = (ms: number, fields: Record<string, unknown>, stage = 'ResponseComplete', code = 200): string =>
    JSON.stringify({
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      auditID: `9b2c${(id++).toString(16).padStart(8, '0')}-5c1e-4c7a-9f0e-3d1b2a4c6e8f`,
      stage,
      ...fields,
      sourceIPs: ['10.0.3.17'],
      ...(stage === 'RequestReceived' ? {} : { responseStatus: code < 300 ? { metadata: {}, code } : { metadata: {}, status: 'Failure', reason: 'Conflict', code } }),
      requestReceivedTimestamp: stamp(ms - 9),
      stageTimestamp: stamp(ms),
      annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' },
    });
  const ref = (resource: string, ns: string, name: string, group: string, sub?: string) => ({ resource, namespace: ns, name, apiGroup: group, apiVersion: 'v1', ...(sub ? { subresource: sub } : {}) });
  const controller = { username: 'system:serviceaccount:kube-system:deployment-controller', groups: ['system:serviceaccounts'] };
  const person = { username: 'ci-deployer', groups: ['system:authenticated'] };

  for (let i = 0; i < total; i++) {
    // ~11.6 events/s over a day; concurrent requests finish up to 2 s out of order.
    const ms = T0 + Math.floor((i / total) * 86_400_000) + Math.floor(random() * 2000);
    const r = random();
    const d = Math.floor(random() * DEPLOYMENTS.length);
    const target = DEPLOYMENTS[d] ?? { ns: 'default', name: 'svc' };
    const state = states[d] ?? { version: 1, generation: 1, rolling: 0 };
    if (r < 0.001) {
      state.version++;
      state.generation++;
      state.rolling = 4;
      const obj = deployment(target.ns, target.name, state.version - 1, state.generation, { updated: 0, available: 3, replicas: 3 });
      // The apiserver answers before the controller has observed the new generation.
      (obj.status as { observedGeneration: number }).observedGeneration = state.generation - 1;
      await write('deployment template patch (RequestResponse)', event(ms, { level: 'RequestResponse', requestURI: `/apis/apps/v1/namespaces/${target.ns}/deployments/${target.name}?fieldManager=kubectl-client-side-apply`, verb: 'patch', user: person, userAgent: 'kubectl/v1.31.2', objectRef: ref('deployments', target.ns, target.name, 'apps'), requestObject: { spec: { template: { spec: { containers: [{ name: 'app', image: `registry.example/${target.ns}/${target.name}:1.${state.version}.0` }] } } } }, responseObject: { ...obj, spec: deployment(target.ns, target.name, state.version, state.generation, { updated: 0, available: 3, replicas: 3 }).spec } }));
    } else if (r < 0.08) {
      const step = Math.max(0, 4 - state.rolling);
      if (state.rolling > 0) state.rolling--;
      const obj = deployment(target.ns, target.name, state.version, state.generation, { updated: Math.min(3, step), available: 3, replicas: step >= 3 ? 3 : 4 });
      await write('deployments/status update (RequestResponse)', event(ms, { level: 'RequestResponse', requestURI: `/apis/apps/v1/namespaces/${target.ns}/deployments/${target.name}/status`, verb: 'update', user: controller, userAgent: 'kube-controller-manager/v1.31.2', objectRef: ref('deployments', target.ns, target.name, 'apps', 'status'), requestObject: obj, responseObject: obj }));
    } else if (r < 0.09) {
      await write('deployment read (Metadata)', event(ms, { level: 'Metadata', requestURI: `/apis/apps/v1/namespaces/${target.ns}/deployments/${target.name}`, verb: 'get', user: person, userAgent: 'argocd-application-controller/v2.12', objectRef: ref('deployments', target.ns, target.name, 'apps') }));
    } else if (r < 0.115) {
      const data = { 'app.yaml': `feature_flags:\n  checkout_v2: ${random() < 0.5 ? 'on' : 'off'}\nlimits:\n  rps: ${Math.floor(random() * 1000)}\n` };
      const obj = { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: `${target.name}-config`, namespace: target.ns, resourceVersion: String(i) }, data };
      await write('configmap update (Request)', event(ms, { level: 'Request', requestURI: `/api/v1/namespaces/${target.ns}/configmaps/${target.name}-config`, verb: 'update', user: person, userAgent: 'helm/3.15', objectRef: ref('configmaps', target.ns, `${target.name}-config`, ''), requestObject: obj }));
    } else if (r < 0.125) {
      await write('secret write (Metadata)', event(ms, { level: 'Metadata', requestURI: `/api/v1/namespaces/${target.ns}/secrets/${target.name}-db`, verb: pick(['update', 'patch']), user: person, userAgent: 'external-secrets/0.9', objectRef: ref('secrets', target.ns, `${target.name}-db`, '') }));
    } else if (r < 0.135) {
      const job = `${target.name}-cron-${i}`;
      const obj = { kind: 'Job', apiVersion: 'batch/v1', metadata: { name: job, namespace: target.ns, labels: { 'batch.kubernetes.io/job-name': job } }, spec: { template: { spec: { containers: [{ name: 'job', image: 'registry.example/tools/report:3', command: ['report', '--daily'] }], restartPolicy: 'Never' } } }, status: {} };
      await write('job create (RequestResponse)', event(ms, { level: 'RequestResponse', requestURI: `/apis/batch/v1/namespaces/${target.ns}/jobs`, verb: 'create', user: { username: 'system:serviceaccount:kube-system:cronjob-controller' }, userAgent: 'kube-controller-manager/v1.31.2', objectRef: ref('jobs', target.ns, job, 'batch'), requestObject: obj, responseObject: obj }, 'ResponseComplete', 201));
    } else if (r < 0.145) {
      await write('failed write (409)', event(ms, { level: 'Request', requestURI: `/apis/apps/v1/namespaces/${target.ns}/deployments/${target.name}`, verb: 'update', user: person, userAgent: 'kubectl/v1.31.2', objectRef: ref('deployments', target.ns, target.name, 'apps'), requestObject: { kind: 'Deployment' } }, 'ResponseComplete', 409));
    } else if (r < 0.225) {
      await write('RequestReceived stage', event(ms, { level: 'Metadata', requestURI: `/api/v1/namespaces/${target.ns}/pods`, verb: 'list', user: person, userAgent: 'kubectl/v1.31.2', objectRef: { resource: 'pods', namespace: target.ns, apiVersion: 'v1' } }, 'RequestReceived'));
    } else if (r < 0.425) {
      const node = `node-${Math.floor(random() * 60)}`;
      await write('lease update (Metadata)', event(ms, { level: 'Metadata', requestURI: `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${node}?timeout=10s`, verb: 'update', user: { username: `system:node:${node}`, groups: ['system:nodes'] }, userAgent: 'kubelet/v1.31.2', objectRef: ref('leases', 'kube-node-lease', node, 'coordination.k8s.io') }));
    } else if (r < 0.525) {
      await write('event create (Request)', event(ms, { level: 'Request', requestURI: `/api/v1/namespaces/${target.ns}/events`, verb: 'create', user: controller, userAgent: 'kube-controller-manager/v1.31.2', objectRef: ref('events', target.ns, `${target.name}.17f3a`, ''), requestObject: { kind: 'Event', apiVersion: 'v1', metadata: { name: `${target.name}.17f3a`, namespace: target.ns }, involvedObject: { kind: 'Deployment', namespace: target.ns, name: target.name }, reason: 'ScalingReplicaSet', message: `Scaled up replica set ${target.name}-5d8f7b9c4 to 3`, type: 'Normal', count: 1 } }, 'ResponseComplete', 201));
    } else if (r < 0.99995) {
      const resource = pick(['pods', 'services', 'endpoints', 'nodes', 'serviceaccounts']);
      await write('get/list/watch (Metadata)', event(ms, { level: 'Metadata', requestURI: `/api/v1/namespaces/${target.ns}/${resource}?limit=500&resourceVersion=0`, verb: pick(['get', 'list', 'watch']), user: { username: 'system:serviceaccount:monitoring:prometheus', groups: ['system:serviceaccounts'] }, userAgent: 'prometheus/2.53', objectRef: { resource, namespace: target.ns, apiVersion: 'v1' } }));
    } else {
      await write('truncated line', '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"cut');
    }
  }
  out.end();
  await once(out, 'finish');
  const mix = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([label, n]) => ({ label, share: n / total }));
  return { bytes, mix };
}
