import { MAX_PERSISTENCE_EVALUATIONS } from '../core/persistence.js';
import { SLACK_CHANNEL } from '../core/notifications-policy.js';
import { METRIC_LABEL_PATTERN, METRICS_PRESETS } from '../core/policy.js';

// The structural OpenAPI v3 schema of one policy document (the `spec` of both policy CRDs): the
// shape of policyInputSchema, so the apiserver refuses wrong types and enum values by itself.
// Its meaning (durations, the migration window that may only widen, cross-field rules) is checked
// by the webhook with parsePolicy, the code that checks the policy file.
//
// Every object keeps unknown fields (x-kubernetes-preserve-unknown-fields): pruned, a typo such as
// `windows.migraton` would vanish before the webhook saw it and the policy would silently apply
// without it; kept, parsePolicy names it and the policy is refused (or, if it got in while the
// webhook was down, reported Invalid while its last valid version applies).
//
// Secret references carry no pattern: the apiserver would quote a mistyped value, which may be
// the token itself, in its error (F3); parsePolicy's message never repeats it.

export type Schema = Record<string, unknown>;

/** What parseDuration accepts as text: "15m", "1h30m", "90s", "500ms". */
export const DURATION_PATTERN = '^\\s*([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+\\s*$';

const str = (description: string, extra: Schema = {}): Schema => ({ type: 'string', description, ...extra });
const int = (description: string, extra: Schema = {}): Schema => ({ type: 'integer', description, ...extra });
const num = (description: string, extra: Schema = {}): Schema => ({ type: 'number', description, ...extra });
const list = (items: Schema, description: string): Schema => ({ type: 'array', description, items });
const object = (properties: Record<string, Schema>, description: string, extra: Schema = {}): Schema => ({
  type: 'object',
  description,
  'x-kubernetes-preserve-unknown-fields': true,
  properties,
  ...extra,
});
const duration = (description: string): Schema => ({
  'x-kubernetes-int-or-string': true,
  description: `${description} A duration such as "15m", "90s", "1h30m", or whole seconds.`,
  pattern: DURATION_PATTERN,
  minimum: 0,
});
const persistence = (description: string): Schema => ({
  'x-kubernetes-int-or-string': true,
  description,
  pattern: DURATION_PATTERN,
  minimum: 1,
  maximum: MAX_PERSISTENCE_EVALUATIONS,
});
const share = (description: string): Schema => num(description, { minimum: 0, exclusiveMinimum: true, maximum: 1, exclusiveMaximum: true });

const secretRef = (what: string): Schema =>
  object({ name: str("The Secret's name, in rollguard's own namespace."), key: str('The key of its data.') }, `${what}: a Secret reference {name, key}; never the value itself (F3).`, { required: ['name', 'key'] });

const labelSelector = (): Schema => object(
  {
    matchLabels: { type: 'object', description: 'Labels a Job must carry.', additionalProperties: { type: 'string' } },
    matchExpressions: list(
      object(
        {
          key: str('Label key.', { minLength: 1 }),
          operator: str('How the key is matched.', { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }),
          values: list({ type: 'string' }, 'Values for In and NotIn.'),
        },
        'A label selector requirement.',
        { required: ['key', 'operator'] },
      ),
      'Label selector requirements.',
    ),
  },
  'A label selector that marks a Job as a schema migration (R4).',
);

const notifications = (): Schema => object(
  {
    slack: object(
      {
        botToken: secretRef('Slack bot token (chat:write); needs channel'),
        webhookUrl: secretRef('Slack incoming-webhook URL instead of a bot token: notify only'),
        channel: str('Channel id (C0123456789) or name (#deploys) the bot posts to.', { pattern: SLACK_CHANNEL.source }),
        signingSecret: secretRef("Slack app's signing secret: verifies the Apply/Dismiss callbacks"),
      },
      'R10: Slack. null turns off a channel the cluster default set.',
      { nullable: true },
    ),
    webhook: object(
      {
        url: str('https:// URL (http:// only to a loopback address) that receives each decision as JSON.'),
        secret: secretRef('HMAC-SHA256 key that signs each POST'),
        maxAttempts: int('Attempts per state of a decision.', { minimum: 1, maximum: 20 }),
      },
      'R10: the generic decision webhook. null turns it off.',
      { nullable: true, required: ['url'] },
    ),
    pageUrl: str("Base URL of the agent's decision pages, e.g. https://rollguard.example.com."),
    decisionTtl: duration('An open decision nobody acted on expires after this (at least 1m; default 1h).'),
    slackUsers: {
      type: 'object',
      description: 'Slack user id (U…/W…) or email → the Kubernetes identity the Slack Apply button acts as.',
      additionalProperties: object({ user: str('Kubernetes user.', { minLength: 1 }), groups: list({ type: 'string' }, 'Kubernetes groups.') }, 'A Kubernetes identity.', { required: ['user'] }),
    },
  },
  'R10: where decisions are sent.',
);

/** The policy document: every field optional; an unset field inherits (cluster default, then built-in default). */
/** A Prometheus label name, as metrics.*Label must be. */
const METRIC_LABEL = METRIC_LABEL_PATTERN.source;

export function policyDocumentSchema(description: string): Schema {
  return object(
    {
      mode: str('auto may roll back without a human; suggest always asks; off does nothing (default auto).', { enum: ['auto', 'suggest', 'off'] }),
      windows: object(
        {
          onset: duration('R1: latest regression onset after the rollout completed (default 15m).'),
          configChange: duration('R3: how far before the deploy a ConfigMap/Secret change still belongs to it (default 30m).'),
          migration: duration('R4: migration Jobs within this of the deploy stop automation; at least 30m, can be widened, never narrowed.'),
        },
        'The decision windows.',
      ),
      blackout: duration('R8: after a rollback, no re-evaluation and no second rollback for this long (default 10m).'),
      serviceLabel: str("R2: the label naming a Deployment's service, else its name (default app.kubernetes.io/name).", { minLength: 1 }),
      thresholds: object(
        {
          errorRate: share('R5: 5xx share of requests that must be exceeded (default 0.02).'),
          minRequests: int('R5: fewer requests than this in the evaluated window is too little traffic to tell (default 100).', { minimum: 0 }),
          persistence: persistence(`R5: how long a breach must last: a duration (default 90s), or a count of consecutive evaluations (1–${String(MAX_PERSISTENCE_EVALUATIONS)}).`),
          significance: share('R5: significance level of the test against the pre-deploy baseline (default 0.001).'),
          latencyRatio: num('p99 over the baseline p99 that counts as a latency regression (default 1.5).', { minimum: 1, exclusiveMinimum: true }),
        },
        'R5: what counts as a regression.',
      ),
      gitops: str('R13: at most suggest for Argo CD / Flux reconciled Deployments (default); auto lifts that.', { enum: ['suggest', 'auto'] }),
      migrationSelectors: list(labelSelector(), 'R4: label selectors that mark a Job as a migration.'),
      metrics: object(
        {
          preset: str('Metric conventions (default default).', { enum: [...METRICS_PRESETS] }),
          serviceLabel: str("The METRIC label naming the service, over the preset's (not the top-level serviceLabel, the Deployment label).", { pattern: METRIC_LABEL }),
          namespaceLabel: str("The metric label naming the namespace, over the preset's; empty: the metrics have none, match on the service label alone.", { pattern: `^$|${METRIC_LABEL}` }),
          statusLabel: str("The metric label holding the status (the HTTP status code; the gRPC code for the grpc preset), over the preset's.", { pattern: METRIC_LABEL }),
          podLabel: str("The metric label naming the pod, over the preset's (pod); empty: the metrics have none. With it, errors are traced to the deploy's revisions.", { pattern: `^$|${METRIC_LABEL}` }),
          queries: object(
            {
              requests: str('PromQL for requests; $service and $namespace are substituted.', { minLength: 1 }),
              errors: str("PromQL for server errors (5xx; the preset's error codes for grpc).", { minLength: 1 }),
              latencyBucket: str('PromQL for the latency histogram buckets.', { minLength: 1 }),
            },
            'PromQL overrides.',
          ),
          step: duration('Detector evaluation step, at least 1s: set it to the scrape interval (default 30s).'),
          baseline: duration('History before the deploy used as the baseline, at least 5m (default 30m).'),
          neighbours: list({ type: 'string', minLength: 1 }, 'R2: the services checked as neighbours (default: every service of the namespace).'),
        },
        'Where the signal comes from.',
      ),
      notifications: notifications(),
    },
    description,
  );
}
