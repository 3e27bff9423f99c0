// Structural shapes of the Kubernetes objects rollguard reads, as they appear in JSON on the wire
// (admission requests, audit logs, watch events). Only the fields rollguard uses are typed; the
// rest passes through untouched.

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid?: string; controller?: boolean }[];
  managedFields?: unknown[];
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export interface KeySelector {
  name?: string;
  key?: string;
  optional?: boolean;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    configMapKeyRef?: KeySelector;
    secretKeyRef?: KeySelector;
    fieldRef?: unknown;
    resourceFieldRef?: unknown;
  };
}

export interface EnvFromSource {
  prefix?: string;
  configMapRef?: { name?: string; optional?: boolean };
  secretRef?: { name?: string; optional?: boolean };
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  resources?: unknown;
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  startupProbe?: unknown;
  volumeMounts?: unknown[];
  [field: string]: unknown;
}

export interface VolumeProjection {
  configMap?: { name?: string; optional?: boolean };
  secret?: { name?: string; optional?: boolean };
  [field: string]: unknown;
}

export interface Volume {
  name: string;
  configMap?: { name?: string; optional?: boolean };
  secret?: { secretName?: string; optional?: boolean };
  projected?: { sources?: VolumeProjection[] };
  [field: string]: unknown;
}

export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  volumes?: Volume[];
  imagePullSecrets?: { name?: string }[];
  [field: string]: unknown;
}

export interface PodTemplateSpec {
  metadata?: ObjectMeta;
  spec?: PodSpec;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface DeploymentSpec {
  replicas?: number;
  selector?: LabelSelector;
  template?: PodTemplateSpec;
  paused?: boolean;
  strategy?: unknown;
  [field: string]: unknown;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: { type: string; status: string; reason?: string; lastUpdateTime?: string }[];
}

export interface Deployment extends KubeObject {
  spec?: DeploymentSpec;
  status?: DeploymentStatus;
}

export interface ReplicaSet extends KubeObject {
  spec?: { replicas?: number; selector?: LabelSelector; template?: PodTemplateSpec };
  status?: { replicas?: number; readyReplicas?: number; availableReplicas?: number; observedGeneration?: number };
}

export interface JobSpec {
  template?: PodTemplateSpec;
  [field: string]: unknown;
}

export interface Job extends KubeObject {
  spec?: JobSpec;
  status?: { startTime?: string; completionTime?: string; active?: number; succeeded?: number; failed?: number };
}

/** A workload that runs pods from a template (Deployment, StatefulSet, DaemonSet, CronJob, Job). */
export interface WorkloadRef {
  kind: string;
  namespace: string;
  name: string;
  template: PodTemplateSpec | undefined;
}

export function labelsOf(obj: KubeObject | PodTemplateSpec | undefined): Record<string, string> {
  return obj?.metadata?.labels ?? {};
}

export function annotationsOf(obj: KubeObject | PodTemplateSpec | undefined): Record<string, string> {
  return obj?.metadata?.annotations ?? {};
}

/** Evaluates a Kubernetes label selector. An empty selector matches everything, as in the API. */
export function selectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, req.key);
    const value = labels[req.key];
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
        if (!has || value === undefined || !values.includes(value)) return false;
        break;
      case 'NotIn':
        if (has && value !== undefined && values.includes(value)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}
