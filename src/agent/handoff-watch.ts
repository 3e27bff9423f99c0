import type { Logger } from 'pino';
import type { OwnerInfo, RolloutState } from '../core/decision-types.js';
import { responseMs, SETTLE_STEPS } from '../core/handoff-cause.js';
import { computeHandoff } from '../core/handoff.js';
import type { Handoff, RevisionInput } from '../core/handoff-types.js';
import type { Deployment } from '../core/kube.js';
import type { Policy } from '../core/policy.js';
import { DEFAULT_STEP_MS } from '../core/regression.js';
import type { RawServiceSeries } from '../core/regression-series.js';
import type { Regression } from '../core/regression-types.js';
import type { RevisionSplit } from '../core/revision-split.js';
import { parseInstant } from '../core/duration.js';
import { rolloutComplete } from '../core/rollout.js';
import { templateHash } from '../core/template-hash.js';
import { seriesFromSource } from '../metrics/detect.js';
import type { MetricSource } from '../metrics/source.js';
import type { ClusterState } from './cluster-state.js';
import type { DecisionRecord } from './decision-record.js';
import type { Evaluation } from './evaluate.js';
import type { RollbackOutcome } from './rollback.js';
import type { DecisionChange } from './sinks.js';

// R9 in the agent: after its own rollback it watches the Deployment's error rate through the same
// metric source, during the blackout too (the blackout stops re-evaluation, not this), keeps the
// latest handoff on the decision, and publishes it when first computed, whenever the assessment
// changes and once it settles; then it stops watching.

export interface HandoffTarget {
  record: DecisionRecord;
  policy: Policy;
  service: string;
  regression: Regression;
  deployStart: number;
  deployComplete: number | undefined;
  owner: OwnerInfo;
  rolledBack: RevisionInput;
  restored: RevisionInput;
  rollbackAt: number;
  /** The restored template's hash identifies the rollback's rollout; the rolled-back one, an informer not caught up yet. */
  restoredHash: string;
  rolledBackHash: string;
  /** The triggering errors by revision, as the decision saw them. */
  revisionSplit?: RevisionSplit | undefined;
}

/** What the agent knows right after its rollback, as a watch target. */
export function handoffTarget(a: {
  record: DecisionRecord;
  ev: Extract<Evaluation, { kind: 'decided' }>;
  before: Deployment;
  outcome: Extract<RollbackOutcome, { result: 'rolled-back' }>;
  at: number;
}): HandoffTarget {
  const { ev, outcome } = a;
  const restoredRs = ev.view.owned.find((o) => o.revision === outcome.toRevision)?.replicaSet;
  return {
    record: a.record,
    policy: ev.policy,
    service: ev.service,
    regression: ev.regression,
    deployStart: ev.view.evaluationStart ?? a.at,
    deployComplete: ev.view.deploy.rollout.state === 'complete' ? ev.view.deploy.rollout.at : undefined,
    owner: ev.decision.owner,
    rolledBack: { revision: outcome.fromRevision, template: a.before.spec?.template, annotations: a.before.metadata?.annotations ?? {} },
    // The Deployment's template, not the ReplicaSet's: that one carries the controller's pod-template-hash label.
    restored: { revision: outcome.toRevision, template: outcome.deployment.spec?.template, annotations: restoredRs?.metadata?.annotations ?? {} },
    rollbackAt: a.at,
    restoredHash: templateHash(outcome.deployment.spec?.template),
    rolledBackHash: ev.view.templateHash,
    revisionSplit: ev.input.revisionSplit,
  };
}

export interface HandoffWatchDeps {
  state: ClusterState;
  sourceFor: (policy: Policy) => MetricSource;
  publish: (record: DecisionRecord, change: DecisionChange) => void;
  isLeader: () => boolean;
  clock: () => number;
  logger: Logger;
  intervalMs: () => number;
}

interface Watched extends HandoffTarget {
  /** Watching ends here even if the assessment never settles. */
  until: number;
  published: Handoff | undefined;
  busy: boolean;
  /** When the rollback's rollout completed, once seen; else the last time it was seen still running. */
  completedAt: number | undefined;
  seenRunningAt: number;
}

const noSeries = (namespace: string, service: string): RawServiceSeries => ({ namespace, service, requests: [], errors: [], latency: [] });

export class HandoffWatch {
  private readonly watched = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly deps: HandoffWatchDeps) {}

  /** Starts watching a rollback; the first handoff is computed one interval later. */
  watch(target: HandoffTarget): void {
    if (this.stopped) return;
    const step = target.policy.metrics.stepMs ?? DEFAULT_STEP_MS;
    const horizon = Math.max(target.policy.blackoutMs, 2 * (responseMs(step) + SETTLE_STEPS * step));
    this.watched.set(target.record.id, { ...target, until: target.rollbackAt + horizon, published: undefined, busy: false, completedAt: undefined, seenRunningAt: target.rollbackAt });
    this.schedule();
  }

  /** Decision ids still watched. */
  watching(): string[] {
    return [...this.watched.keys()];
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped || this.timer !== undefined || this.watched.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tick().finally(() => {
        this.schedule();
      });
    }, this.deps.intervalMs());
  }

  /** One round over every watched rollback. */
  async tick(): Promise<void> {
    await Promise.all([...this.watched.values()].map((w) => this.update(w)));
  }

  private async update(w: Watched): Promise<void> {
    if (w.busy || this.stopped || !this.deps.isLeader()) return;
    w.busy = true;
    try {
      await this.compute(w);
    } catch (err) {
      this.deps.logger.warn({ decision: w.record.id, error: err instanceof Error ? err.message : String(err) }, 'handoff not computed');
    } finally {
      w.busy = false;
    }
  }

  private async compute(w: Watched): Promise<void> {
    const now = this.deps.clock();
    const { namespace, deployment } = w.record;
    const current = this.deps.state.deployment(namespace, deployment);
    const rollout = current === undefined ? undefined : this.rolloutOf(w, current, now);
    if (rollout === undefined) {
      this.end(w, current === undefined ? 'the Deployment is gone' : 'the Deployment changed again after the rollback');
      return;
    }
    let series = { own: noSeries(namespace, w.service), neighbours: [] as RawServiceSeries[] };
    let metricsProblem: string | undefined;
    try {
      series = await seriesFromSource(this.deps.sourceFor(w.policy), { namespace, service: w.service, deployStart: w.deployStart, now, policy: w.policy });
    } catch (err) {
      metricsProblem = err instanceof Error ? err.message : String(err);
    }
    const handoff = computeHandoff({
      now,
      policy: w.policy,
      namespace,
      deployment,
      rolledBack: w.rolledBack,
      restored: w.restored,
      owner: w.owner,
      regression: w.regression,
      deployStart: w.deployStart,
      deployComplete: w.deployComplete,
      rollbackAt: w.rollbackAt,
      rollbackRollout: rollout,
      series: series.own,
      neighbours: series.neighbours,
      metricsProblem,
      revisionSplit: w.revisionSplit,
    });
    if (this.stopped) return;
    const last = w.published;
    const changed = last === undefined || last.assessment.kind !== handoff.assessment.kind || (handoff.settled && !last.settled);
    w.record.handoff = { latest: handoff, published: (w.record.handoff?.published ?? 0) + (changed ? 1 : 0) };
    if (changed) {
      w.published = handoff;
      this.deps.publish(w.record, 'handoff');
      this.deps.logger.info({ event: 'handoff', decision: w.record.id, deployment: `${namespace}/${deployment}`, status: handoff.recovery.status, assessment: handoff.assessment.kind, settled: handoff.settled }, 'rollback handoff');
    }
    if (handoff.settled) this.end(w, 'settled');
    else if (now >= w.until) this.end(w, 'not settled before the watch ended');
  }

  /**
   * The rollback's rollout, or undefined when the Deployment no longer runs the restored template.
   * Its completion is remembered once seen: the controller's own time when it has one (whole
   * seconds, so one in the rollback's own second still counts), else the last time it was seen
   * running, so the completion is never placed later than it was (a recovery is not mistaken for
   * one that came before it).
   */
  private rolloutOf(w: Watched, current: Deployment, now: number): RolloutState | undefined {
    const hash = templateHash(current.spec?.template);
    if (hash === w.rolledBackHash) return { state: 'progressing' };
    if (hash !== w.restoredHash) return undefined;
    if (w.completedAt !== undefined) return { state: 'complete', at: w.completedAt };
    if (!rolloutComplete(current, undefined)) {
      w.seenRunningAt = now;
      return { state: 'progressing' };
    }
    const condition = current.status?.conditions?.find((c) => c.type === 'Progressing' && c.reason === 'NewReplicaSetAvailable');
    const at = parseInstant(condition?.lastUpdateTime);
    w.completedAt = at !== undefined && at >= w.rollbackAt - 1000 && at <= now ? Math.max(at, w.rollbackAt) : w.seenRunningAt;
    return { state: 'complete', at: w.completedAt };
  }

  private end(w: Watched, why: string): void {
    this.watched.delete(w.record.id);
    this.deps.logger.info({ decision: w.record.id, deployment: `${w.record.namespace}/${w.record.deployment}`, why }, 'handoff watch ended');
  }
}
