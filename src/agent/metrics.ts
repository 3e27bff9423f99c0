import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// The agent's Prometheus metrics, on its own registry (several agents can run in one test process).

export type FailureKind = 'metrics' | 'kube-read' | 'kube-write' | 'rollback' | 'record-stripped' | 'sink' | 'policy';

export interface AgentMetrics {
  registry: Registry;
  evaluations: Counter<'result'>;
  decisions: Counter<'verdict'>;
  rollbacks: Counter<'result'>;
  failures: Counter<'kind'>;
  alerts: Counter<'result'>;
  duration: Histogram;
  leader: Gauge;
  watchAge: Gauge<'resource'>;
  dependencyUp: Gauge<'dependency'>;
}

export function createAgentMetrics(watchAges: () => { resource: string; ageSeconds: number | undefined }[], opts: { defaultMetrics?: boolean } = {}): AgentMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics === true) collectDefaultMetrics({ register: registry, prefix: 'rollguard_agent_' });
  const registers = [registry];
  return {
    registry,
    evaluations: new Counter({ name: 'rollguard_agent_evaluations_total', help: 'Deploy evaluations by result (decided, skipped, failed).', labelNames: ['result'], registers }),
    decisions: new Counter({ name: 'rollguard_agent_decisions_total', help: 'New or changed decisions by verdict.', labelNames: ['verdict'], registers }),
    rollbacks: new Counter({ name: 'rollguard_agent_rollbacks_total', help: 'Rollback attempts by result (rolled-back, already-done, refused, stale, denied, failed, not-leader).', labelNames: ['result'], registers }),
    failures: new Counter({ name: 'rollguard_agent_failures_total', help: 'Failures by kind.', labelNames: ['kind'], registers }),
    alerts: new Counter({ name: 'rollguard_agent_alerts_total', help: 'Alertmanager alerts received, by result (evaluated, no-match, ignored, resolved; on a standby forwarded, forward-failed).', labelNames: ['result'], registers }),
    duration: new Histogram({ name: 'rollguard_agent_evaluation_duration_seconds', help: 'Time one deploy evaluation takes (metrics queries included).', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers }),
    leader: new Gauge({ name: 'rollguard_agent_leader', help: '1 while this replica holds the Lease and may act.', registers }),
    dependencyUp: new Gauge({ name: 'rollguard_agent_dependency_up', help: '1 while the dependency (prometheus, apiserver, policy-source, slack, decision-webhook) answered its last probe or use, 0 while it fails; absent while not configured.', labelNames: ['dependency'], registers }),
    watchAge: new Gauge({
      name: 'rollguard_agent_watch_last_event_age_seconds',
      help: 'Seconds since the last list or watch event, per resource (a large value on a busy cluster means a stuck watch).',
      labelNames: ['resource'],
      registers,
      collect() {
        for (const w of watchAges()) if (w.ageSeconds !== undefined) this.set({ resource: w.resource }, w.ageSeconds);
      },
    }),
  };
}
