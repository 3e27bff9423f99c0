import type { OwnerInfo, RolloutState } from './decision-types.js';
import type { TemplatePart } from './deployment-diff.js';
import type { PodTemplateSpec } from './kube.js';
import type { Policy } from './policy.js';
import type { RawServiceSeries } from './regression-series.js';
import type { Regression } from './regression-types.js';
import type { RevisionSplit } from './revision-split.js';

// R9: what the on-call engineer gets after an automatic rollback. Times are epoch ms.

export type RecoveryStatus = 'recovering' | 'recovered' | 'not-recovering' | 'unknown';

export type CausalAssessment = 'likely-the-rolled-back-code' | 'common-cause' | 'coincidence' | 'cause-elsewhere' | 'unknown';

/** One side of the rollback: its revision number, pod template and the annotations that describe it. */
export interface RevisionInput {
  revision: number | undefined;
  template: PodTemplateSpec | undefined;
  /** The Deployment's annotations while it ran this revision (or its ReplicaSet's copy of them). */
  annotations: Readonly<Record<string, string>>;
}

export interface HandoffInput {
  now: number;
  policy: Policy;
  namespace: string;
  deployment: string;
  /** The revision rolled back (the bad deploy) and the one restored. */
  rolledBack: RevisionInput;
  restored: RevisionInput;
  owner: OwnerInfo;
  /** The regression that triggered the rollback, as the decision saw it. */
  regression: Regression;
  deployStart: number;
  deployComplete: number | undefined;
  /** When the rollback was written. */
  rollbackAt: number;
  /** The rollback's own rollout. */
  rollbackRollout: RolloutState;
  /** Raw counters of the service and of the other services of the namespace over `handoffGrid`. */
  series: RawServiceSeries;
  neighbours: readonly RawServiceSeries[];
  /** Why the series are missing, when the metrics could not be read. */
  metricsProblem?: string | undefined;
  /** The triggering regression's 5xx share by revision, as the decision saw it. */
  revisionSplit?: RevisionSplit | undefined;
}

export interface RevisionFacts {
  revision: number | undefined;
  commit: string | undefined;
  pullRequest: string | undefined;
  changeCause: string | undefined;
}

export interface HandoffChangeSet {
  rolledBack: RevisionFacts;
  restored: RevisionFacts;
  /** Containers whose image the deploy changed: `before` is the restored image, `after` the rolled-back one. */
  images: { container: string; before: string | undefined; after: string | undefined }[];
  parts: TemplatePart[];
  summary: string;
}

export interface HandoffSignal {
  service: string;
  threshold: number;
  /** 5xx share before the deploy. */
  baseline: number | undefined;
  /** 5xx share since the onset when the rollback was decided. */
  triggering: number | undefined;
  onset: number | undefined;
  deployStart: number;
  deployComplete: number | undefined;
  rollbackAt: number;
  rollbackComplete: number | undefined;
  stepMs: number;
  /** 5xx share per step (t is the step's end), from the baseline to now. */
  points: { t: number; v: number }[];
  /** The triggering 5xx share per revision (new vs old pods), when the metrics carried a pod label. */
  byRevision?: string;
}

/** Where the 5xx share counts as back to normal (≤ healthy) and as still elevated (> elevated). */
export interface Band {
  healthy: number;
  elevated: number;
}

export interface Window {
  share: number;
  requests: number;
  steps: number;
}

export interface HandoffRecovery {
  status: RecoveryStatus;
  band: Band | undefined;
  sinceRollback: Window | undefined;
  /** The last RECENT_STEPS steps since the rollback. */
  recent: Window | undefined;
  /** Start of the stretch in the healthy band that runs to now; undefined when the latest level is above it. */
  backInBandSince: number | undefined;
  evidence: string[];
}

/** Another service of the namespace that was regressing when the rollback happened. */
export interface NeighbourRecovery {
  service: string;
  baseline: number;
  /** Its 5xx share in its regression, as of the rollback. */
  incident: number;
  backInBandSince: number | undefined;
  /** Back in its band within SAME_MOMENT_STEPS of this service. */
  sameMoment: boolean;
}

export interface Handoff {
  namespace: string;
  deployment: string;
  service: string;
  /** When this handoff was computed. */
  at: number;
  changeSet: HandoffChangeSet;
  signal: HandoffSignal;
  recovery: HandoffRecovery;
  neighbours: NeighbourRecovery[];
  assessment: { kind: CausalAssessment; evidence: string[] };
  /** The assessment will not change any more: watching can stop. */
  settled: boolean;
  /** Owner caveats (R13: Helm brings the change back on the next upgrade). */
  notes: string[];
}
