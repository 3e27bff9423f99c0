import type { Logger } from 'pino';
import { ANNOTATIONS } from '../core/annotations.js';
import { formatInstant, parseInstant } from '../core/duration.js';
import type { Deployment } from '../core/kube.js';
import type { Policy } from '../core/policy.js';
import { serviceOf } from '../core/service.js';
import { isStatus, KubeRest, paths } from '../kube/rest.js';
import type { MetricSource } from '../metrics/source.js';
import { AlertFollowUp } from './alert-follow-up.js';
import type { AlertTarget } from './alertmanager.js';
import { DecisionActions } from './apply.js';
import type { SecretReader } from './secret-values.js';
import { SlackActions } from './slack/actions.js';
import { SlackApi, type SlackApiOptions } from './slack/api.js';
import { SlackUserResolver } from './slack/users.js';
import { WebAuth } from './web-auth.js';
import { DEPENDENCY_LABELS, DependencyHealth, type Dependency, type HealthChange } from '../health/dependency-health.js';
import { Prober, type Probe } from '../health/prober.js';
import { ClusterState } from './cluster-state.js';
import { decisionAnnotation, decisionChanged, decisionId, type DecisionRecord, type DecisionState } from './decision-record.js';
import { DecisionPublisher } from './decision-publisher.js';
import { DeliveryNotes } from './delivery-notes.js';
import { WatchedDecisionStore } from './decision-store-kube.js';
import { evaluateDeployment, type Evaluation } from './evaluate.js';
import { nextPassAt } from './evaluation-schedule.js';
import { HandoffWatch, handoffTarget } from './handoff-watch.js';
import { JobRuns } from './job-runs.js';
import { LeaderElector } from './lease.js';
import { FencedRest, isNotLeading } from './fenced-rest.js';
import { createAgentMetrics, type AgentMetrics } from './metrics.js';
import type { PolicySource } from './policy-source.js';
import { performRollback } from './rollback.js';
import { AGENT_BY, rollbackOf } from './rollback-attribution.js';
import { EventSink, kubeEvent, type DecisionChange, type DecisionSink } from './sinks.js';
import type { KubeAccess } from '../kube/connection.js';

// The agent: watches, evaluates every deploy in its span each interval (and at once when an alert
// fires), rolls back when every condition holds, and otherwise opens a decision for a human. Only
// the Lease holder evaluates and publishes; every replica reads the decisions (RollbackDecision
// objects in rollguard's namespace) and serves people's Apply and Dismiss on them. Every write is
// conditional or idempotent, so replicas, restarts and retries never give two rollbacks for one
// decision (F4).

export { AGENT_BY };

export interface AgentOptions {
  kubeConfig: KubeAccess;
  /** rollguard's own namespace: the Lease lives here. */
  namespace: string;
  identity: string;
  policies: PolicySource;
  sourceFor: (policy: Policy) => MetricSource;
  logger: Logger;
  intervalMs?: number;
  clock?: () => number;
  lease?: { durationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  leaseName?: string;
  sinks?: DecisionSink[];
  concurrency?: number;
  /** Only Deployments in these namespaces are evaluated and acted on (default: every namespace). */
  namespaces?: readonly string[];
  restartDelayMs?: number;
  defaultMetrics?: boolean;
  /** Source addresses of authenticating proxies whose identity headers the decision page trusts. */
  trustedProxies?: readonly string[];
  /** rollguard's own credentials (Slack signing secret): enables the Slack buttons' callback. */
  secrets?: SecretReader;
  /** An origin besides hooks.slack.com that Slack answers may be posted to (a test double). */
  slackResponseOrigin?: string;
  /** The Slack Web API the buttons' callback looks users up with (users.lookupByEmail). */
  slackApi?: SlackApiOptions;
  /** How often Prometheus and the apiserver are probed, whatever is being evaluated (default 30 s). */
  probeIntervalMs?: number;
  /** Probes of the other dependencies (Slack, the decision webhook, the policy source), run with those two. */
  probes?: Partial<Record<Dependency, Probe>>;
  /** Closed decisions are deleted after this long (default 7 days). */
  decisionRetentionMs?: number;
}

/** The failures_total kind a failing dependency counts under. */
const FAILURE_KIND: Record<Dependency, string> = { prometheus: 'metrics', apiserver: 'kube-read', 'policy-source': 'policy-source', slack: 'slack', 'decision-webhook': 'decision-webhook' };

/** How often the leader expires and prunes decisions. */
const SWEEP_MS = 60_000;

/** How long a stopping leader waits for the publishing under way before it lets the Lease go. */
const DRAIN_MS = 10_000;

export type EvaluationOutcome = { key: string; result: string };

export type FaultPoint = 'after-decide' | 'after-patch';

/**
 * Fault injection for the exactly-once tests (F4): ROLLGUARD_AGENT_FAULT=kill-after-decide makes the
 * process SIGKILL itself at that point, stop-after-decide SIGSTOPs it. Unset in production.
 */
function faultPoint(point: FaultPoint): void {
  const fault = process.env.ROLLGUARD_AGENT_FAULT;
  if (fault === `kill-${point}`) process.kill(process.pid, 'SIGKILL');
  if (fault === `stop-${point}`) process.kill(process.pid, 'SIGSTOP');
}

export class Agent {
  readonly state: ClusterState;
  readonly lease: LeaderElector;
  /** The decisions, as every replica reads them from the cluster. */
  readonly decisions: WatchedDecisionStore;
  private readonly publisher: DecisionPublisher;
  private lastSweep = 0;
  readonly metrics: AgentMetrics;
  /** What the agent depends on (Prometheus, the apiserver) and whether it answers: loud on change. */
  readonly health: DependencyHealth;
  private readonly prober: Prober;
  readonly rest: KubeRest;
  /** For the leader's own writes: each is sent only while the Lease is surely held (fenced-rest.ts). */
  private readonly leaderRest: FencedRest;
  /** What a person's Apply or Dismiss does (page, chat, CLI). */
  readonly actions: DecisionActions;
  readonly webAuth: WebAuth;
  /** The Slack Apply/Dismiss callback; undefined without `secrets`. */
  readonly slackActions: SlackActions | undefined;
  /** R9: the handoff after rollguard's own rollbacks. */
  readonly handoffs: HandoffWatch;
  private readonly events: EventSink;
  private readonly sinks: DecisionSink[];
  private readonly jobRuns: JobRuns;
  private readonly clock: () => number;
  private readonly inFlight = new Map<string, Promise<EvaluationOutcome>>();
  private readonly strippedWarned = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private followUpTimer: NodeJS.Timeout | undefined;
  private readonly followUp = new AlertFollowUp();
  private stopping = false;
  private started = false;

  constructor(private readonly opts: AgentOptions) {
    this.clock = opts.clock ?? Date.now;
    this.rest = new KubeRest(opts.kubeConfig);
    this.leaderRest = new FencedRest(opts.kubeConfig, () => this.leadsSurely());
    this.state = new ClusterState({ kubeConfig: opts.kubeConfig, logger: opts.logger, clock: this.clock, ...(opts.restartDelayMs === undefined ? {} : { restartDelayMs: opts.restartDelayMs }) });
    this.lease = new LeaderElector({
      rest: this.rest,
      namespace: opts.namespace,
      name: opts.leaseName ?? 'rollguard-agent',
      identity: opts.identity,
      logger: opts.logger,
      clock: this.clock,
      ...(opts.lease?.durationMs === undefined ? {} : { leaseDurationMs: opts.lease.durationMs }),
      ...(opts.lease?.renewDeadlineMs === undefined ? {} : { renewDeadlineMs: opts.lease.renewDeadlineMs }),
      ...(opts.lease?.retryPeriodMs === undefined ? {} : { retryPeriodMs: opts.lease.retryPeriodMs }),
    });
    this.jobRuns = new JobRuns(this.rest, this.clock);
    this.events = new EventSink(this.leaderRest, opts.logger, this.clock);
    this.sinks = [this.events, ...(opts.sinks ?? [])];
    this.decisions = new WatchedDecisionStore({
      rest: this.rest,
      leaderRest: this.leaderRest,
      kubeConfig: opts.kubeConfig,
      namespace: opts.namespace,
      logger: opts.logger,
      clock: this.clock,
      ...(opts.restartDelayMs === undefined ? {} : { restartDelayMs: opts.restartDelayMs }),
      ...(opts.decisionRetentionMs === undefined ? {} : { retentionMs: opts.decisionRetentionMs }),
    });
    const notes = new DeliveryNotes(this.decisions);
    this.publisher = new DecisionPublisher({
      store: this.decisions,
      isLeader: () => this.lease.isLeader(),
      publish: (record, change) => this.publish(record, change),
      recorded: (id) => notes.recorded(id),
      onError: (id, err) => {
        this.writeFailed(id, err);
      },
    });
    this.decisions.onChange((record, event) => {
      if (event === 'update') this.reconcile(record);
    });
    for (const sink of this.sinks) {
      sink.onDelivered?.((d) => {
        notes.note(d);
      });
    }
    this.metrics = createAgentMetrics(
      () => this.state.lastEvents().map((e) => ({ resource: e.resource, ageSeconds: e.at === undefined ? undefined : (this.clock() - e.at) / 1000 })),
      { defaultMetrics: opts.defaultMetrics ?? false },
    );
    this.health = new DependencyHealth({
      logger: opts.logger,
      clock: this.clock,
      metrics: {
        up: (dependency, value) => { this.metrics.dependencyUp.set({ dependency }, value); },
        failed: (dependency) => { this.metrics.failures.inc({ kind: FAILURE_KIND[dependency] }); },
      },
    });
    this.health.onChange((change) => void this.dependencyEvent(change));
    this.prober = new Prober({
      health: this.health,
      intervalMs: opts.probeIntervalMs ?? 30_000,
      probes: {
        prometheus: async () => {
          await opts.sourceFor(opts.policies.policyFor(opts.namespace)).probe?.();
        },
        apiserver: async () => {
          await this.rest.get('/version');
        },
        ...opts.probes,
      },
    });
    this.actions = new DecisionActions({
      store: this.decisions,
      state: this.state,
      rest: this.rest,
      logger: opts.logger,
      clock: this.clock,
      publish: (record) => {
        this.reconcile(record);
      },
      ttlFor: (ns) => opts.policies.policyFor(ns).notifications.decisionTtlMs,
      blackoutFor: (ns) => opts.policies.policyFor(ns).blackoutMs,
    });
    this.webAuth = new WebAuth({ rest: this.rest, trustedProxies: opts.trustedProxies ?? [] });
    this.slackActions =
      opts.secrets === undefined
        ? undefined
        : new SlackActions({ store: this.decisions, actions: this.actions, secrets: opts.secrets, users: new SlackUserResolver({ api: new SlackApi(opts.slackApi), clock: this.clock }), policyFor: (ns) => opts.policies.policyFor(ns), logger: opts.logger, clock: this.clock, ...(opts.slackResponseOrigin === undefined ? {} : { allowedResponseOrigin: opts.slackResponseOrigin }) });
    this.handoffs = new HandoffWatch({ state: this.state, sourceFor: opts.sourceFor, publish: (r) => void this.keepHandoff(r), isLeader: () => this.lease.isLeader(), clock: this.clock, logger: opts.logger, intervalMs: () => this.intervalMs() });
    this.state.onJob((event, job) => {
      if (event === 'delete') this.jobRuns.deleted(job);
    });
    this.lease.onChange((leading) => {
      this.metrics.leader.set(leading ? 1 : 0);
      opts.policies.leading?.(leading, () => this.leadsSurely());
      if (leading) {
        void this.recoverRollbackEvents();
        // A dependency that broke while another replica led (or before anyone did) is reported by the new leader.
        for (const state of this.health.down()) void this.dependencyEvent({ dependency: state.dependency, up: false, state });
        // Taking over: what the previous leader did not publish yet is published now, once.
        this.publisher.reconcileAll().catch((err: unknown) => {
          this.writeFailed('*', err);
        });
      }
    });
  }

  intervalMs(): number {
    return this.opts.intervalMs ?? this.opts.policies.policyFor('').metrics.stepMs ?? 30_000;
  }

  async start(): Promise<void> {
    // Not awaited: a Prometheus that does not answer must not hold the start up; it is logged instead.
    void this.prober.start();
    await this.decisions.start();
    await this.state.start();
    this.started = true;
    this.lease.start();
    this.schedule(this.clock());
    this.startFollowUp();
  }

  /** Ready when every informer has listed; the reason says whether this replica leads. */
  readiness(): { ready: boolean; reason: string } {
    const unsynced = [...this.state.unsynced(), ...(this.decisions.synced() ? [] : ['RollbackDecisions'])];
    const role = this.lease.isLeader() ? `leader (${this.opts.identity})` : `standby (${this.opts.identity}; another replica holds the Lease or none is held yet)`;
    if (!this.started || unsynced.length > 0) return { ready: false, reason: `not synced: ${unsynced.join(', ') || 'starting'}; ${role}` };
    // A failing dependency is named but does not make the replica unready: the Service must keep
    // sending it the decision pages, the Apply clicks and Alertmanager's notifications.
    const failing = this.health.down().map((d) => this.health.describe(d.dependency));
    return { ready: true, reason: `synced; ${role}; policies from ${this.opts.policies.describe()}${failing.length === 0 ? '' : `; failing: ${failing.join('; ')}`}` };
  }

  /** The leader says in rollguard's own namespace, on the Lease, when a dependency breaks or recovers. */
  private async dependencyEvent(change: HealthChange): Promise<void> {
    if (!this.lease.isLeader()) return;
    const ns = this.opts.namespace;
    const what = DEPENDENCY_LABELS[change.dependency];
    const message = change.up
      ? `${what} answers again (it failed for ${Math.round((change.downForMs ?? 0) / 1000)} s); decisions read it again`
      : `rollguard cannot reach ${what}: ${change.state.error ?? 'unknown error'}; decisions made meanwhile say so and never roll back automatically on missing data`;
    try {
      await this.leaderRest.create(
        paths.events(ns),
        kubeEvent({
          name: { generateName: 'rollguard-dependency-' },
          namespace: ns,
          involvedObject: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: ns, name: this.opts.leaseName ?? 'rollguard-agent' },
          reason: change.up ? 'DependencyRecovered' : 'DependencyFailing',
          message: `${message} (${this.opts.identity})`,
          type: change.up ? 'Normal' : 'Warning',
          component: 'rollguard-agent',
          at: this.clock(),
        }),
      );
    } catch (err) {
      this.opts.logger.warn({ dependency: change.dependency, error: err instanceof Error ? err.message : String(err) }, 'could not write the dependency Event');
    }
  }

  /** The next pass, just after a metric step boundary (see evaluation-schedule.ts). */
  private schedule(previousStart: number): void {
    if (this.stopping) return;
    const now = this.clock();
    const stepMs = this.opts.policies.policyFor('').metrics.stepMs ?? this.intervalMs();
    this.timer = setTimeout(() => {
      const started = this.clock();
      void this.evaluateAll().finally(() => {
        this.schedule(started);
      });
    }, nextPassAt(previousStart, now, this.intervalMs(), stepMs) - now);
  }

  /** Every Deployment once, a few at a time. */
  async evaluateAll(): Promise<EvaluationOutcome[]> {
    if (!this.lease.isLeader()) return [];
    const only = this.opts.namespaces;
    const all = only === undefined ? this.state.allDeployments() : only.flatMap((ns) => this.state.allDeployments(ns));
    const out: EvaluationOutcome[] = [];
    const width = this.opts.concurrency ?? 4;
    for (let i = 0; i < all.length && !this.stopping; i += width) {
      const batch = all.slice(i, i + width).map((d) => this.evaluate(d.metadata?.namespace ?? '', d.metadata?.name ?? ''));
      out.push(...(await Promise.all(batch)));
    }
    await this.sweep();
    return out;
  }

  /** Once a minute, on the leader: open decisions past their TTL expire (published once), old closed ones are deleted. */
  private async sweep(): Promise<void> {
    const now = this.clock();
    if (now - this.lastSweep < SWEEP_MS || !this.lease.isLeader()) return;
    this.lastSweep = now;
    try {
      for (const r of this.decisions.list({ openOnly: true })) {
        const ttl = this.opts.policies.policyFor(r.namespace).notifications.decisionTtlMs;
        if (r.decision.verdict !== 'suggest' || now - r.firstDecidedAt <= ttl) continue;
        await this.transition(r, 'expired', `expired at ${formatInstant(r.firstDecidedAt + ttl)} (decisions stay actionable for ${Math.round(ttl / 60_000)} min)`);
      }
      await this.decisions.prune();
    } catch (err) {
      this.writeFailed('*', err);
    }
  }

  /** One Deployment, never twice at once: a second request while one runs waits for that one. */
  evaluate(namespace: string, name: string): Promise<EvaluationOutcome> {
    const key = `${namespace}/${name}`;
    const running = this.inFlight.get(key);
    if (running !== undefined) return running;
    // A write that fails (the apiserver away, a connection cut) fails this evaluation, never the
    // process: the next round tries again.
    const p = this.evaluateNow(namespace, name)
      .catch((err: unknown): EvaluationOutcome => {
        this.writeFailed(key, err);
        return { key, result: 'failed' };
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return p;
  }

  private async evaluateNow(namespace: string, name: string): Promise<EvaluationOutcome> {
    const key = `${namespace}/${name}`;
    if (!this.lease.isLeader()) return { key, result: 'not-leader' };
    if (this.opts.namespaces !== undefined && !this.opts.namespaces.includes(namespace)) return { key, result: 'skipped: namespace not evaluated by this agent' };
    const current = this.state.deployment(namespace, name);
    if (current === undefined) {
      await this.closeFor(namespace, name, 'the Deployment is gone');
      return { key, result: 'gone' };
    }
    await this.settleRollbacks(current);
    const endTimer = this.metrics.duration.startTimer();
    let ev: Evaluation;
    try {
      ev = await evaluateDeployment({ state: this.state, jobRuns: this.jobRuns, policyFor: (ns) => this.opts.policies.policyFor(ns), sourceFor: this.opts.sourceFor, metricsHealth: this.metricsHealth }, current, this.clock());
    } catch (err) {
      this.metrics.evaluations.inc({ result: 'failed' });
      this.metrics.failures.inc({ kind: 'kube-read' });
      this.opts.logger.error({ deployment: key, error: err instanceof Error ? err.message : String(err) }, 'evaluation failed');
      return { key, result: 'failed' };
    } finally {
      endTimer();
    }
    // The evaluation can take long (a slow Prometheus, a slow apiserver): what it found is written
    // only while the Lease is still surely held, never past the renew deadline (F4).
    if (!this.lease.isLeader()) return { key, result: 'not-leader' };
    if (ev.kind === 'skipped') {
      this.metrics.evaluations.inc({ result: 'skipped' });
      await this.closeFor(namespace, name, ev.why);
      return { key, result: `skipped: ${ev.why}` };
    }
    this.metrics.evaluations.inc({ result: 'decided' });
    const d = ev.decision;
    const annotations = current.metadata?.annotations ?? {};
    if (d.verdict === 'none') {
      await this.closeFor(namespace, name, d.summary);
      await this.writeStamps(current, undefined, ev.view.completionToRecord, ev.view.templateHash);
      return { key, result: 'none' };
    }
    const now = this.clock();
    const { record, change } = await this.decisions.record({
      id: decisionId(current.metadata?.uid ?? key, ev.view.templateHash, ev.regression.onset, ev.policy.metrics.stepMs ?? 30_000),
      namespace,
      deployment: name,
      uid: current.metadata?.uid ?? '',
      templateHash: ev.view.templateHash,
      onset: ev.regression.onset,
      toRevision: ev.view.revision.previous,
      deployStart: ev.view.evaluationStart,
      deployCompleteAt: ev.view.deploy.rollout.state === 'complete' ? ev.view.deploy.rollout.at : undefined,
      decision: d,
      at: now,
    });
    if (change !== 'same') this.metrics.decisions.inc({ verdict: d.verdict });
    if (!this.lease.isLeader()) return { key, result: 'not-leader' };
    if (d.verdict === 'auto' && record.state === 'open') {
      // Acted on: an alert still firing for it has nothing more to follow up.
      this.followUp.stop(key);
      return { key, result: await this.rollBack(current, record, ev) };
    }
    this.reconcile(record);
    const value = decisionAnnotation(record);
    await this.writeStamps(current, decisionChanged(annotations[ANNOTATIONS.decision.key], value) ? value : undefined, ev.view.completionToRecord, ev.view.templateHash);
    return { key, result: d.verdict };
  }

  private async rollBack(current: Deployment, record: DecisionRecord, ev: Extract<Evaluation, { kind: 'decided' }>): Promise<string> {
    const key = `${record.namespace}/${record.deployment}`;
    const to = ev.view.revision.previous;
    if (typeof to !== 'number') return 'no-revision';
    // Checked again right before the write: a paused or partitioned replica must not act (F4).
    // At least one renewal period of validity left, so the write completes while the Lease is surely held.
    if (!this.leadsSurely()) {
      this.metrics.rollbacks.inc({ result: 'not-leader' });
      this.opts.logger.warn({ deployment: key, decision: record.id }, 'not rolling back: the lease is not certainly held');
      return 'not-leader';
    }
    const reason = ev.decision.conditions.cleanSignal.evidence;
    faultPoint('after-decide');
    const now = this.clock();
    const outcome = await performRollback({
      rest: this.leaderRest,
      deployment: await this.state.deploymentForRollback(current),
      replicaSets: await this.state.replicaSetsForRollback(current, to, this.opts.logger),
      decisionId: record.id,
      toRevision: to,
      by: `${AGENT_BY} (${this.opts.identity})`,
      reason,
      blackoutMs: ev.policy.blackoutMs,
      now,
      extra: { [ANNOTATIONS.decision.key]: decisionAnnotation(record) },
    });
    if (outcome.result === 'rolled-back') faultPoint('after-patch');
    this.metrics.rollbacks.inc({ result: outcome.result });
    const base = { event: 'rollback', namespace: record.namespace, deployment: record.deployment, decision: record.id, result: outcome.result };
    if (outcome.result === 'rolled-back') {
      const note = outcome.recordKept
        ? `rolled back from revision ${outcome.fromRevision ?? 'unknown'} to ${outcome.toRevision}${outcome.partial ? ' from a partially rolled-out state' : ''} at ${formatInstant(now)}: ${reason}`
        : `rolled back to revision ${outcome.toRevision}, but the webhook removed rollguard's record: it does not trust this agent's identity (see rollguard webhook --agent-service-account)`;
      // Said as soon as the patch returned; the decision's own record follows.
      this.opts.logger.info({ ...base, fromRevision: outcome.fromRevision, toRevision: outcome.toRevision, partial: outcome.partial, recordKept: outcome.recordKept, reason }, 'rolled back');
      const done = await this.transition(record, 'rolled-back', note, now);
      if (!outcome.recordKept) {
        this.metrics.failures.inc({ kind: 'record-stripped' });
        this.opts.logger.error({ ...base }, "the admission webhook stripped the agent's rollback record: make the webhook trust the agent's ServiceAccount (rollguard webhook --agent-service-account or --trusted-user)");
      }
      this.handoffs.watch(handoffTarget({ record: done, ev, before: current, outcome, at: now }));
      return 'rolled-back';
    }
    if (outcome.result === 'already-done' || outcome.result === 'denied') {
      await this.transition(record, 'closed', outcome.message);
    } else if (outcome.result === 'refused') {
      await this.transition(record, 'rollback-failed', outcome.message);
    }
    if (outcome.result === 'failed') this.metrics.failures.inc({ kind: 'rollback' });
    this.opts.logger.warn({ ...base, message: outcome.message }, 'did not roll back');
    return outcome.result;
  }

  /** The leader publishes what a decision still needs published (whoever changed it); a standby does nothing. */
  private reconcile(record: DecisionRecord): void {
    this.publisher.reconcile(record).catch((err: unknown) => {
      this.writeFailed(record.id, err);
    });
  }

  /** The agent's own transition of an open decision, published; resolves to the decision as stored. */
  private async transition(record: DecisionRecord, state: DecisionState, reason: string, at = this.clock()): Promise<DecisionRecord> {
    const t = await this.decisions.transition(record.id, state, reason, { by: `${AGENT_BY} (${this.opts.identity})`, at, via: 'agent' }, 'leader');
    const stored = t.record ?? { ...record, state, stateReason: reason };
    this.reconcile(stored);
    return stored;
  }

  private async closeFor(namespace: string, name: string, reason: string): Promise<void> {
    for (const r of await this.decisions.closeFor(namespace, name, reason)) this.reconcile(r);
  }

  /**
   * The Deployment was rolled back after one of its open decisions was made (the page, Slack,
   * `rollguard apply`, kubectl, or this agent before a restart): that decision was carried out,
   * by whom and when the rollback record says, never superseded by its own effect.
   */
  private async settleRollbacks(current: Deployment): Promise<void> {
    for (const r of this.decisions.list({ namespace: current.metadata?.namespace ?? '', openOnly: true })) {
      if (r.deployment !== current.metadata?.name) continue;
      const done = rollbackOf(r, current);
      if (done === undefined) continue;
      const t = await this.decisions.transition(r.id, done.state, `${done.state === 'applied' ? 'applied' : 'rolled back'} by ${done.by} at ${formatInstant(done.at)}`, { by: done.by, at: done.at, via: 'agent' }, 'leader');
      if (t.record !== undefined) this.reconcile(t.record);
    }
  }

  /** R9: the handoff is kept on the decision (a new leader has it), then published. */
  private async keepHandoff(record: DecisionRecord): Promise<void> {
    try {
      const stored = await this.decisions.update(record.id, (r) => (JSON.stringify(r.handoff) === JSON.stringify(record.handoff) ? undefined : { ...r, handoff: record.handoff }), 'leader');
      if (stored !== undefined) this.reconcile(stored);
    } catch (err) {
      this.writeFailed(record.id, err);
    }
  }

  /**
   * At least one renewal period of validity left: a write sent now completes while the Lease is
   * surely held (F4). Checked right before each of the leader's writes, through leaderRest.
   */
  private leadsSurely(): boolean {
    return this.lease.validForMs() >= this.lease.retryPeriodMs;
  }

  private writeFailed(id: string, err: unknown): void {
    if (isNotLeading(err)) {
      this.opts.logger.info({ decision: id, error: err.message }, 'the Lease was not surely held any more; left to the leader');
      return;
    }
    this.metrics.failures.inc({ kind: 'kube-write' });
    this.opts.logger.warn({ decision: id, error: err instanceof Error ? err.message : String(err) }, 'could not write the decision');
  }

  /** Resolves once every sink has delivered the change or given up on it. */
  private async publish(record: DecisionRecord, change: DecisionChange): Promise<void> {
    await Promise.all(this.sinks.map((sink) => sink.publish(record, change).catch((err: unknown) => {
      this.metrics.failures.inc({ kind: 'sink' });
      this.opts.logger.warn({ sink: sink.name, decision: record.id, error: err instanceof Error ? err.message : String(err) }, 'decision sink failed');
    })));
  }

  /** The decision annotation and the rollout-completion stamp, in one merge patch, only when either changed. */
  private async writeStamps(current: Deployment, decision: string | undefined, completedAt: number | undefined, hash: string): Promise<void> {
    const set: Record<string, string> = {};
    if (decision !== undefined) set[ANNOTATIONS.decision.key] = decision;
    if (completedAt !== undefined) set[ANNOTATIONS.rolloutCompleted.key] = JSON.stringify({ hash, at: formatInstant(completedAt) });
    const ns = current.metadata?.namespace ?? '';
    const name = current.metadata?.name ?? '';
    // Per template and keys, not values: a completion time seen anew each cycle must not make a new attempt.
    const warnKey = `${ns}/${name}/${hash}/${Object.keys(set).sort().join(',')}`;
    if (Object.keys(set).length === 0 || this.strippedWarned.has(warnKey) || !this.lease.isLeader()) return;
    try {
      const updated = await this.leaderRest.patch<Deployment>(paths.deployment(ns, name), 'merge', { metadata: { annotations: set } });
      const kept = Object.entries(set).every(([k, v]) => updated.metadata?.annotations?.[k] === v);
      if (!kept) {
        // Never retried for the same values: the webhook would strip them again.
        this.strippedWarned.add(warnKey);
        this.metrics.failures.inc({ kind: 'record-stripped' });
        this.opts.logger.error({ deployment: `${ns}/${name}`, keys: Object.keys(set) }, "the admission webhook stripped the agent's annotations: make the webhook trust the agent's ServiceAccount (rollguard webhook --agent-service-account or --trusted-user); rollout completion is then not remembered across restarts (F1)");
      }
    } catch (err) {
      if (isNotLeading(err)) return;
      this.metrics.failures.inc({ kind: 'kube-write' });
      if (!isStatus(err, 404)) this.opts.logger.warn({ deployment: `${ns}/${name}`, error: err instanceof Error ? err.message : String(err) }, 'could not write the decision annotations');
    }
  }

  /**
   * After a restart or a takeover: a rollback this agent recorded, inside its blackout, whose Event
   * may not have been written before the previous leader stopped. The Event's name is the
   * decision's, so writing it again is a no-op when it exists (F4).
   */
  async recoverRollbackEvents(): Promise<void> {
    const now = this.clock();
    for (const d of this.state.allDeployments()) {
      const a = d.metadata?.annotations ?? {};
      const id = a[ANNOTATIONS.decisionId.key];
      const until = parseInstant(a[ANNOTATIONS.blackoutUntil.key]);
      if (id === undefined || until === undefined || until <= now || !(a[ANNOTATIONS.rolledBackBy.key] ?? '').startsWith(AGENT_BY)) continue;
      const deployment = d.metadata?.name ?? '';
      await this.events.emit({
        namespace: d.metadata?.namespace ?? '',
        deployment,
        uid: d.metadata?.uid ?? '',
        id,
        name: this.events.eventName({ deployment, id }, 'rolled-back'),
        change: 'rolled-back',
        message: `rollguard rolled back to revision ${a[ANNOTATIONS.rollbackToRevision.key] ?? 'unknown'} at ${a[ANNOTATIONS.rolledBackAt.key] ?? 'unknown'}: ${a[ANNOTATIONS.rollbackReason.key] ?? ''}`.slice(0, 1024),
      });
    }
  }

  /** Alertmanager fired: evaluate the matching Deployments now. Returns what each alert matched. */
  handleAlerts(alerts: readonly AlertTarget[]): { accepted: number; results: { alert: string; matched: string[]; result: string }[] } {
    const results = alerts.map((a) => this.handleAlert(a));
    return { accepted: results.filter((r) => r.matched.length > 0).length, results };
  }

  private handleAlert(a: AlertTarget): { alert: string; matched: string[]; result: string } {
    if (a.status !== 'firing' || a.namespace === undefined || (a.service === undefined && a.deployment === undefined)) {
      const result = a.status !== 'firing' ? 'resolved' : 'ignored';
      if (a.status === 'resolved' && a.namespace !== undefined) this.stopFollowing(a);
      this.metrics.alerts.inc({ result });
      return { alert: a.name, matched: [], result };
    }
    const ns = a.namespace;
    const policy = this.opts.policies.policyFor(ns);
    const matched = this.namedBy(a);
    this.metrics.alerts.inc({ result: matched.length > 0 ? 'evaluated' : 'no-match' });
    this.opts.logger.info({ alert: a.name, namespace: ns, service: a.service, deployment: a.deployment, matched }, matched.length > 0 ? 'alert received: evaluating the Deployments it names, and every step while it fires' : 'alert received: no Deployment matches it');
    for (const name of matched) {
      this.followUp.follow(`${ns}/${name}`, this.clock() + policy.onsetWindowMs);
      void this.evaluate(ns, name);
    }
    return { alert: a.name, matched, result: matched.length > 0 ? 'evaluating' : 'no Deployment matches' };
  }

  /** The Deployments an alert names, by name or by the service they serve, in its namespace. */
  private namedBy(a: AlertTarget): string[] {
    const ns = a.namespace ?? '';
    const policy = this.opts.policies.policyFor(ns);
    return this.state
      .allDeployments(ns)
      .filter((d) => (a.deployment !== undefined && d.metadata?.name === a.deployment) || (a.service !== undefined && serviceOf(d, policy) === a.service))
      .map((d) => d.metadata?.name ?? '');
  }

  private stopFollowing(a: AlertTarget): void {
    for (const name of this.namedBy(a)) this.followUp.stop(`${a.namespace ?? ''}/${name}`);
  }

  /** Every metrics step, the Deployments named by alerts still firing (the regular interval may be longer). */
  private startFollowUp(): void {
    const stepMs = this.opts.policies.policyFor('').metrics.stepMs ?? 30_000;
    if (this.intervalMs() <= stepMs) return;
    this.followUpTimer = setInterval(() => {
      if (!this.lease.isLeader()) return;
      for (const key of this.followUp.due(this.clock())) {
        const [namespace = '', name = ''] = key.split('/');
        void this.evaluate(namespace, name);
      }
    }, stepMs);
    this.followUpTimer.unref();
  }

  private readonly metricsHealth = {
    ok: (): void => {
      this.health.ok('prometheus');
    },
    failed: (error: string): string => {
      this.health.failed('prometheus', error);
      return this.health.describe('prometheus') ?? error;
    },
  };

  /**
   * SIGTERM: no new evaluation starts, running ones finish (a rollback is one write: never half
   * done), the publishing under way finishes (at most DRAIN_MS), then the Lease is released.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.prober.stop();
    this.handoffs.stop();
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.followUpTimer !== undefined) clearInterval(this.followUpTimer);
    await Promise.allSettled([...this.inFlight.values()]);
    // Still the leader: a Slack message being posted is kept on its decision (its ts) and marked
    // published before another replica can take over, which then edits it instead of posting again.
    await this.drainPublishing();
    await this.lease.stop();
    await this.state.stop();
    await this.decisions.stop();
    this.opts.policies.stop();
  }

  private async drainPublishing(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => {
        resolve(true);
      }, DRAIN_MS);
    });
    const waited = await Promise.race([this.publisher.idle().then(() => false), late]);
    clearTimeout(timer);
    if (waited) this.opts.logger.warn({ waitedMs: DRAIN_MS }, 'stopping with decisions still being published: the next leader publishes them again');
  }

  policyFor(namespace: string): Policy {
    return this.opts.policies.policyFor(namespace);
  }

  sourceFor(policy: Policy): MetricSource {
    return this.opts.sourceFor(policy);
  }

  /** For tests and the CLI: the current Deployment's latest decision, if any. */
  latestDecision(namespace: string, name: string): DecisionRecord | undefined {
    return this.decisions.list({ namespace }).find((r) => r.deployment === name);
  }
}
