import type { BeforeState } from './before-state.js';
import type { ChangeSet } from './changeset.js';
import type { Deployment, WorkloadRef } from './kube.js';
import type { Policy } from './policy.js';
import type { Regression } from './regression-types.js';
import type { RevisionSplit } from './revision-split.js';
import type { ChangeEvent } from './change-events.js';

export type ConditionStatus = 'met' | 'unmet' | 'unknown';

export interface Condition {
  status: ConditionStatus;
  /** What was seen, in words an on-call engineer understands. */
  evidence: string;
}

/** The conditions every decision reports, in the order they are printed. */
export const CONDITION_KEYS = [
  'window',
  'sameService',
  'podSpecOnly',
  'migration',
  'cleanSignal',
  'ownership',
  'revision',
  'paused',
  'blackout',
  'mode',
] as const;
export type ConditionKey = (typeof CONDITION_KEYS)[number];

export const CONDITION_LABELS: Record<ConditionKey, string> = {
  window: 'R1 onset within window',
  sameService: 'R2 same service',
  podSpecOnly: 'R3 pod-spec-only change set',
  migration: 'R4 no migration nearby',
  cleanSignal: 'R5 clean error-rate signal',
  ownership: 'R13 not reconciled by GitOps',
  revision: 'R6 previous revision exists',
  paused: 'R6 Deployment not paused',
  blackout: 'R8 not in a blackout',
  mode: 'R11 policy mode allows auto',
};

export type Verdict = 'auto' | 'suggest' | 'none';

/** Whether every change of one kind is visible; `evidence` says why in one line. A bare boolean gives no reason. */
export type Coverage = boolean | { known: boolean; evidence: string };

/** Where the rollout stands: finished at a known time, still going, or not known (F1). */
export type RolloutState = { state: 'complete'; at: number } | { state: 'progressing' } | { state: 'unknown' };

/** One deploy: a pod template change of one Deployment. */
export interface Deploy {
  namespace: string;
  name: string;
  /** When the template change was admitted; undefined when unknown. */
  start: number | undefined;
  rollout: RolloutState;
  /** The Deployment before the change; undefined when unknown (no stamp, Metadata-level audit). */
  before: Deployment | undefined;
  /** The Deployment as the change left it; undefined when unknown. */
  after: Deployment | undefined;
  /**
   * How `before` is known (replay: a full object from the log, a patch's untouched fields, or not
   * at all); undefined when `before` speaks for itself (the agent's stamps).
   */
  beforeKnown?: BeforeState | undefined;
  /**
   * When the template this deploy replaced began running (R3: a config object created before then
   * is all its pods read); undefined when not known or when that template came back by a rollback.
   */
  oldTemplateSince?: number | undefined;
}

export interface DecisionInput {
  /** Evaluation time (epoch ms). The core never reads a clock. */
  now: number;
  policy: Policy;
  deploy: Deploy;
  /** The Deployment as it is now (labels, spec.paused, replicas, status). */
  current: Deployment;
  /** Config changes and Job runs in the namespace (other kinds are ignored here). */
  events: readonly ChangeEvent[];
  /**
   * Whether rollguard sees every ConfigMap/Secret change and every Job (false e.g. while the webhook
   * was down), with the reason where the producer knows it (e.g. the audit policy rule).
   */
  coverage: { config: Coverage; jobs: Coverage };
  /** The regression being judged; undefined when none was detected. */
  regression: Regression | undefined;
  /** Regression checks of other services in the namespace (for R2 evidence and the causal view). */
  neighbours: readonly Regression[];
  /**
   * Revision numbers from the Deployment's ReplicaSets; `previous` is what a rollback restores:
   * a number, `null` when none is left, `undefined` when not known.
   */
  revision: { current: number | undefined; previous: number | null | undefined };
  /** End of a post-rollback blackout, if one is in force or was recorded. */
  blackoutUntil: number | undefined;
  /** Other workloads in the namespace, for the blast radius. */
  workloads: readonly WorkloadRef[];
  /** This service's share of the namespace's requests, where metrics tell it. */
  trafficShare: number | undefined;
  /**
   * The change set as the webhook classified it at admission (the agent's producer): what only
   * admission saw (fields outside the template) stays in; the result is never more permissive.
   */
  admitted?: { kind: ChangeSet['kind']; reasons: readonly string[] } | undefined;
  /** The regression's 5xx share split by revision (new vs old pods); undefined without a pod label (nothing changes). */
  revisionSplit?: RevisionSplit | undefined;
  /** Facts the producer is unsure of (caches not synced, metrics unreachable, unreadable stamps): never `auto` (F1). */
  doubts?: readonly string[] | undefined;
}

export interface OwnerInfo {
  kind: 'argocd' | 'flux' | 'helm' | 'none';
  /** Application, Kustomization or HelmRelease / release name. */
  name?: string;
  namespace?: string;
  /** Continuously reconciled: a plain rollback would be put back by the owner. */
  reconciles: boolean;
  /** The owner-native way back, one command or step per line. */
  route: string[];
  /** For an owner that reconciles: its way back as one command line, the decision's command instead of a plain undo it would revert. */
  command?: string;
}

export interface BlastRadius {
  replicas: number | undefined;
  updatedReplicas: number | undefined;
  /** True when the rollout had not finished: a rollback starts from a mixed state. */
  partial: boolean;
  trafficShare: number | undefined;
  /** Workloads that read the same ConfigMaps/Secrets, which a rollback does not revert. */
  sharedConfig: { kind: string; name: string; via: string[] }[];
}

export interface Decision {
  namespace: string;
  deployment: string;
  service: string;
  verdict: Verdict;
  conditions: Record<ConditionKey, Condition>;
  /** In [0,1]: how likely rolling this deploy back is the right, safe action. See confidence.ts. */
  confidence: number;
  /**
   * `kubectl rollout undo deployment/NAME -n NS --to-revision=N`, or, for a Deployment its GitOps owner
   * reconciles (and that rollguard does not roll back itself), the owner's command (R13); undefined
   * without a previous revision.
   */
  command: string | undefined;
  owner: OwnerInfo;
  /** R3: what the deploy changed and whether a rollback reverts all of it. */
  changeSet: ChangeSet;
  blastRadius: BlastRadius;
  /** The 5xx share per revision (new vs old pods), when the metrics carry a pod label. */
  revisionSplit?: RevisionSplit;
  /** Extra lines for the human: owner routes, Helm caveat, neighbours that regressed. */
  notes: string[];
  /** One sentence: the verdict and its main reason. */
  summary: string;
}
