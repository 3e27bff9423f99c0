import * as z from 'zod';
import { durationSchema as duration } from './duration-schema.js';
import { formatDuration, MINUTE } from './duration.js';
import type { LabelSelector } from './kube.js';
import { MAX_PERSISTENCE_EVALUATIONS, persistenceEvaluations, persistenceSchema, type Persistence } from './persistence.js';
import { DEFAULT_NOTIFICATIONS, mergeNotifications, notificationProblems, notificationsInputSchema, type NotificationPolicy } from './notifications-policy.js';

// A rollguard policy as cluster admins write it (R11): a cluster default plus per-namespace
// overrides, durations as text ("15m"), every field optional. `parsePolicy` validates it and
// fills in the defaults from the source post; the core only ever sees the resolved `Policy`.

export type Mode = 'auto' | 'suggest' | 'off';
/** The metric conventions rollguard knows (src/metrics/conventions.ts holds each one's names and labels). */
export const METRICS_PRESETS = ['default', 'istio', 'ingress-nginx', 'opentelemetry', 'linkerd', 'grpc'] as const;
export type MetricsPreset = (typeof METRICS_PRESETS)[number];

export interface Policy {
  mode: Mode;
  /** R1: how long after the rollout completed a regression onset still counts as caused by it. */
  onsetWindowMs: number;
  /** R3: how far before deployStart a ConfigMap/Secret change still belongs to the deploy. */
  configWindowMs: number;
  /** R4: a migration Job overlapping [deployStart − this, deployComplete + this] stops automation. */
  migrationWindowMs: number;
  /** R8: after a rollback, no re-evaluation and no second rollback for this long. */
  blackoutMs: number;
  /** R2: the label that names a Deployment's service (fallback: the Deployment's name). */
  serviceLabel: string;
  thresholds: {
    /** R5: 5xx share of requests above which an error-rate regression can trigger automation. */
    errorRate: number;
    /** R5: fewer requests than this in the evaluated window is "too little traffic to tell". */
    minRequests: number;
    /** R5: how long a breach must persist before it counts as a regression (see persistence.ts). */
    persistence: Persistence;
    /** R5: significance level of the test against the pre-deploy baseline. */
    significance: number;
    /** Latency: p99 must exceed the baseline p99 by this factor to count as a latency regression. */
    latencyRatio: number;
  };
  /** R13: what a Deployment continuously reconciled by Argo CD or Flux may get at most. */
  gitops: 'suggest' | 'auto';
  /** R4: extra label selectors that mark a Job as a schema migration. */
  migrationSelectors: LabelSelector[];
  metrics: {
    preset: MetricsPreset;
    /**
     * The METRIC labels naming the service, the namespace and the status code, over the preset's
     * (not the top-level `serviceLabel`, which is the Deployment label). An empty `namespaceLabel`
     * says the metrics have no namespace label: series are matched on the service label alone.
     */
    serviceLabel?: string;
    namespaceLabel?: string;
    statusLabel?: string;
    /**
     * The metric label naming the pod that served the requests, over the preset's (`pod`); empty:
     * the metrics have none. With it, errors are traced to the deploy's revisions (revision-split.ts).
     */
    podLabel?: string;
    /** PromQL overrides; `$service` and `$namespace` are substituted. */
    queries: { requests?: string; errors?: string; latencyBucket?: string };
    /** Evaluation step of the detector: one interval of counts per step (match the scrape interval). */
    stepMs?: number;
    /** How much history before deployStart forms the baseline (and where an earlier onset can be seen). */
    baselineMs?: number;
    /** R2: the services checked as neighbours; all services of the namespace when unset. */
    neighbours?: string[];
  };
  /** R10: where decisions are sent, the decision pages' base URL, their lifetime, Slack identities. */
  notifications: NotificationPolicy;
}

export const DEFAULT_POLICY: Policy = {
  mode: 'auto',
  onsetWindowMs: 15 * MINUTE,
  configWindowMs: 30 * MINUTE,
  migrationWindowMs: 30 * MINUTE,
  blackoutMs: 10 * MINUTE,
  serviceLabel: 'app.kubernetes.io/name',
  thresholds: {
    errorRate: 0.02,
    minRequests: 100,
    // Bursts of 30–60 s are cold starts, not regressions; at 30 s steps this is the 3 evaluations the detector benchmark was tuned with (docs/metrics.md#accuracy).
    persistence: { durationMs: 90_000 },
    significance: 0.001,
    latencyRatio: 1.5,
  },
  gitops: 'suggest',
  migrationSelectors: [],
  metrics: { preset: 'default', queries: {}, stepMs: 30_000, baselineMs: 30 * MINUTE },
  notifications: DEFAULT_NOTIFICATIONS,
};

const labelSelector = z.strictObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(
      z.strictObject({
        key: z.string().min(1),
        operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
        values: z.array(z.string()).optional(),
      }),
    )
    .optional(),
});

const fraction = (field: string) =>
  z.number().gt(0, `${field} must be greater than 0`).lt(1, `${field} must be below 1 (a share, not a percentage)`);

/** A Prometheus label name (the metric's, not a Kubernetes label). */
export const METRIC_LABEL_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const metricLabel = (field: string) =>
  z.string().regex(METRIC_LABEL_PATTERN, `${field} must be a Prometheus label name (letters, digits and _, not starting with a digit), e.g. service`);

/** The policy as written by a person. Unknown fields are rejected, so a typo is never silently ignored. */
export const policyInputSchema = z.strictObject({
  mode: z.enum(['auto', 'suggest', 'off']).optional(),
  windows: z
    .strictObject({
      onset: duration('windows.onset').optional(),
      configChange: duration('windows.configChange').optional(),
      migration: duration('windows.migration')
        .refine((ms) => ms >= DEFAULT_POLICY.migrationWindowMs, {
          message: `windows.migration cannot be shorter than ${formatDuration(DEFAULT_POLICY.migrationWindowMs)}: the migration guard (R4) can be widened, never weakened`,
        })
        .optional(),
    })
    .optional(),
  blackout: duration('blackout').optional(),
  serviceLabel: z.string().min(1).optional(),
  thresholds: z
    .strictObject({
      errorRate: fraction('thresholds.errorRate').optional(),
      minRequests: z.number().int().nonnegative().optional(),
      persistence: persistenceSchema.optional(),
      significance: fraction('thresholds.significance').optional(),
      latencyRatio: z.number().gt(1, 'thresholds.latencyRatio must be greater than 1').optional(),
    })
    .optional(),
  gitops: z.enum(['suggest', 'auto']).optional(),
  migrationSelectors: z.array(labelSelector).optional(),
  metrics: z
    .strictObject({
      preset: z
        .enum(METRICS_PRESETS, { error: (issue) => `metrics.preset ${JSON.stringify(issue.input)} is not a preset rollguard knows: use one of ${METRICS_PRESETS.join(', ')}, or metrics.queries` })
        .optional(),
      serviceLabel: metricLabel('metrics.serviceLabel').optional(),
      namespaceLabel: z
        .string()
        .refine((v) => v === '' || METRIC_LABEL_PATTERN.test(v), 'metrics.namespaceLabel must be a Prometheus label name, or "" for metrics without a namespace label')
        .optional(),
      statusLabel: metricLabel('metrics.statusLabel').optional(),
      podLabel: z
        .string()
        .refine((v) => v === '' || METRIC_LABEL_PATTERN.test(v), 'metrics.podLabel must be a Prometheus label name, or "" for metrics without a pod label')
        .optional(),
      queries: z
        .strictObject({
          requests: z.string().min(1).optional(),
          errors: z.string().min(1).optional(),
          latencyBucket: z.string().min(1).optional(),
        })
        .optional(),
      step: duration('metrics.step')
        .refine((ms) => ms >= 1000, 'metrics.step must be at least 1s (use the scrape interval)')
        .optional(),
      baseline: duration('metrics.baseline')
        .refine((ms) => ms >= 5 * MINUTE, 'metrics.baseline must be at least 5m to estimate a baseline')
        .optional(),
      neighbours: z.array(z.string().min(1)).optional(),
    })
    .optional(),
  notifications: notificationsInputSchema.optional(),
});

export type PolicyInput = z.input<typeof policyInputSchema>;
type ParsedPolicyInput = z.output<typeof policyInputSchema>;

export type PolicyResult = { ok: true; policy: Policy } | { ok: false; errors: string[] };

/** Formats zod issues as "path: message" lines, the path in dotted/indexed form. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string[] {
  return issues.map((issue) => {
    const path = issue.path.reduce<string>(
      (acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc === '' ? String(part) : `${acc}.${String(part)}`),
      prefix,
    );
    return path === '' ? issue.message : `${path}: ${issue.message}`;
  });
}

const labelSetting = <K extends 'serviceLabel' | 'namespaceLabel' | 'statusLabel' | 'podLabel'>(key: K, value: string | undefined): Partial<Record<K, string>> =>
  value === undefined ? {} : ({ [key]: value } as Partial<Record<K, string>>);

function merge(base: Policy, input: ParsedPolicyInput): Policy {
  return {
    mode: input.mode ?? base.mode,
    onsetWindowMs: input.windows?.onset ?? base.onsetWindowMs,
    configWindowMs: input.windows?.configChange ?? base.configWindowMs,
    migrationWindowMs: input.windows?.migration ?? base.migrationWindowMs,
    blackoutMs: input.blackout ?? base.blackoutMs,
    serviceLabel: input.serviceLabel ?? base.serviceLabel,
    thresholds: { ...base.thresholds, ...input.thresholds },
    gitops: input.gitops ?? base.gitops,
    migrationSelectors: input.migrationSelectors ?? base.migrationSelectors,
    metrics: {
      preset: input.metrics?.preset ?? base.metrics.preset,
      ...labelSetting('serviceLabel', input.metrics?.serviceLabel ?? base.metrics.serviceLabel),
      ...labelSetting('namespaceLabel', input.metrics?.namespaceLabel ?? base.metrics.namespaceLabel),
      ...labelSetting('statusLabel', input.metrics?.statusLabel ?? base.metrics.statusLabel),
      ...labelSetting('podLabel', input.metrics?.podLabel ?? base.metrics.podLabel),
      queries: { ...base.metrics.queries, ...input.metrics?.queries },
      stepMs: input.metrics?.step ?? base.metrics.stepMs,
      baselineMs: input.metrics?.baseline ?? base.metrics.baselineMs,
      neighbours: input.metrics?.neighbours ?? base.metrics.neighbours,
    },
    notifications: mergeNotifications(base.notifications, input.notifications),
  };
}

/** A persistence longer than the detector looks back could never pass; known only once the step is. */
function persistenceProblems(policy: Policy, prefix: string): string[] {
  const stepMs = policy.metrics.stepMs ?? DEFAULT_POLICY.metrics.stepMs ?? 30_000;
  const n = persistenceEvaluations(policy.thresholds.persistence, stepMs);
  if (n <= MAX_PERSISTENCE_EVALUATIONS) return [];
  const field = prefix === '' ? 'thresholds.persistence' : `${prefix}.thresholds.persistence`;
  return [`${field}: ${formatDuration(n * stepMs)} is ${String(n)} evaluations at metrics.step ${formatDuration(stepMs)}; at most ${String(MAX_PERSISTENCE_EVALUATIONS)} (${formatDuration(MAX_PERSISTENCE_EVALUATIONS * stepMs)}) can be told`];
}

/**
 * Validates a policy document and resolves it on top of `base` (the cluster default for a
 * namespace policy, the built-in defaults for the cluster default). Errors name the bad field.
 */
export function parsePolicy(input: unknown, base: Policy = DEFAULT_POLICY, prefix = ''): PolicyResult {
  const parsed = policyInputSchema.safeParse(input ?? {});
  if (!parsed.success) return { ok: false, errors: describeIssues(parsed.error.issues, prefix) };
  const policy = merge(base, parsed.data);
  const problems = [...persistenceProblems(policy, prefix), ...notificationProblems(policy.notifications, prefix)];
  return problems.length > 0 ? { ok: false, errors: problems } : { ok: true, policy };
}

/** Resolves the policy for a namespace: cluster default, then that namespace's overrides. */
export function policyFor(namespace: string, clusterDefault: Policy, perNamespace: ReadonlyMap<string, Policy>): Policy {
  return perNamespace.get(namespace) ?? clusterDefault;
}

/** A one-line summary of the windows, used in evidence and `inspect`. */
export function describeWindows(policy: Policy): string {
  return `onset ≤ ${formatDuration(policy.onsetWindowMs)} after rollout, config ±${formatDuration(policy.configWindowMs)}, migration ±${formatDuration(policy.migrationWindowMs)}, blackout ${formatDuration(policy.blackoutMs)}`;
}
