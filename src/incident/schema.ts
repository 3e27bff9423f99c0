import * as z from 'zod';
import { parseDuration } from '../core/duration.js';

// The documented JSON shape of one incident for `rollguard decide` and the examples: the
// Deployment before and after the deploy, the change events with times, the regression, policy
// overrides and `now`. Times are RFC 3339; objects are as `kubectl get -o json` prints them.

const instant = z.string().transform((text, ctx) => {
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: `expected an RFC 3339 time such as "2026-03-02T10:00:00Z", got ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return ms;
});

const durationText = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a duration such as "90s" or "2m", got ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return ms;
});

const kubeObject = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: z.looseObject({ name: z.string().min(1, 'metadata.name must not be empty'), namespace: z.string().optional() }),
});

const deploymentObject = kubeObject.extend({ spec: z.looseObject({ template: z.looseObject({}) }) });

const share = z.number().min(0).max(1);
const count = z.number().int().nonnegative();

const errorRate = z.strictObject({
  baseline: share,
  current: share,
  baselineRequests: count,
  currentRequests: count,
  pValue: share,
  persisted: count,
});

const latency = z.strictObject({
  baselineP99: z.number().nonnegative(),
  currentP99: z.number().nonnegative(),
  pValue: share,
  persisted: count,
});

export const regressionSchema = z.strictObject({
  service: z.string().min(1),
  namespace: z.string().min(1).optional(),
  signal: z.enum(['error-rate', 'latency', 'both']).nullable().default(null),
  data: z.enum(['ok', 'no-data', 'low-traffic']).default('ok'),
  onset: instant.nullable().default(null),
  onsetUncertainty: durationText.optional(),
  errorRate: errorRate.optional(),
  latency: latency.optional(),
});

const configEvent = z.strictObject({
  type: z.literal('config-change'),
  at: instant,
  namespace: z.string().min(1).optional(),
  kind: z.enum(['ConfigMap', 'Secret']),
  name: z.string().min(1),
  action: z.enum(['create', 'update', 'delete']),
  content: z.enum(['changed', 'unchanged', 'unknown']).default('changed'),
});

const jobEvent = z.strictObject({
  type: z.literal('job-run'),
  name: z.string().min(1),
  namespace: z.string().min(1).optional(),
  startedAt: instant,
  finishedAt: instant.nullable().default(null),
  job: kubeObject.optional(),
});

const podCounts = z.strictObject({ requests: z.number().nonnegative(), errors: z.number().nonnegative() });

/** The regression's counts per pod and the Deployment's ReplicaSets, for the split by revision. */
const revisions = z.strictObject({
  since: instant,
  replicaSets: z.array(z.strictObject({ name: z.string().min(1), revision: z.number().int().positive() })).default([]),
  pods: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        baseline: podCounts,
        regression: podCounts,
        appeared: z.enum(['before', 'after', 'unclear']).default('unclear'),
      }),
    )
    .min(1),
  dispersion: z.number().min(1).default(1),
});

/** One field with one precise error (a union would answer only "Invalid input" for 12 or "done"). */
const rollout = z.unknown().transform((value, ctx): 'progressing' | 'unknown' | number => {
  if (value === 'progressing' || value === 'unknown') return value;
  const ms = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: `expected "progressing", "unknown" or the RFC 3339 time the rollout completed, such as "2026-03-02T10:05:00Z", got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return ms;
});

export const incidentSchema = z.strictObject({
  description: z.string().optional(),
  /** The verdict this incident must give; `rollguard examples` checks it. */
  expect: z.enum(['auto', 'suggest', 'none']).optional(),
  now: instant,
  policy: z.unknown().optional(),
  deployment: deploymentObject,
  before: deploymentObject.nullable().default(null),
  after: deploymentObject.optional(),
  deploy: z.strictObject({ start: instant.nullable(), complete: rollout }),
  revision: z.strictObject({ current: z.number().int().positive().nullable().default(null), previous: z.number().int().positive().nullable() }).optional(),
  events: z.array(z.discriminatedUnion('type', [configEvent, jobEvent])).default([]),
  coverage: z.strictObject({ config: z.boolean().default(true), jobs: z.boolean().default(true) }).optional(),
  regression: regressionSchema.nullable(),
  neighbours: z.array(regressionSchema).default([]),
  blackoutUntil: instant.optional(),
  workloads: z.array(z.strictObject({ kind: z.string().min(1), name: z.string().min(1), template: z.looseObject({}).optional() })).default([]),
  trafficShare: share.optional(),
  revisions: revisions.optional(),
});

export type IncidentFile = z.output<typeof incidentSchema>;
export type RegressionFile = z.output<typeof regressionSchema>;
