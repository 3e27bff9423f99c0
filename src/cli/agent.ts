import { hostname } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import { pino } from 'pino';
import { Agent } from '../agent/agent.js';
import { advertiseUrlProblem, defaultAdvertiseUrl } from '../agent/advertise-url.js';
import { startAgentHttp } from '../agent/http.js';
import { NotificationSinks } from '../agent/notification-sinks.js';
import { CrdPolicySource } from '../agent/crd-policy-source.js';
import { agentDependencyProbes } from '../agent/dependency-probes.js';
import { FilePolicySource, StaticPolicySource, type PolicySource } from '../agent/policy-source.js';
import { SecretValues } from '../agent/secret-values.js';
import { DEFAULT_SLACK_API } from '../agent/slack/api.js';
import { DEFAULT_RETENTION_MS } from '../agent/decision-store.js';
import type { Policy } from '../core/policy.js';
import { loadKubeConnection } from '../kube/kubeconfig.js';
import { KubeRest } from '../kube/rest.js';
import { ownNamespace } from '../kube/service-account.js';
import { PrometheusSource } from '../metrics/prometheus.js';
import type { MetricSource } from '../metrics/source.js';
import { hostOption, listenHost, WILDCARDS } from './listen-host.js';
import { durationOption } from './duration-option.js';
import { choosePolicySource, policySourceOption } from './policy-source-option.js';
import { parsePort, withCleanErrors } from './webhook-options.js';

// `rollguard agent`: watch, decide, roll back when every condition holds, otherwise open a
// decision for a human. One replica acts (the Lease holder); the others stand by.

interface AgentCliOptions {
  kubeconfig?: string;
  context?: string;
  prometheus: string;
  policy?: string;
  policySource?: string;
  namespace?: string;
  id: string;
  port: number;
  host?: string;
  interval?: number;
  leaseDuration: number;
  renewDeadline: number;
  retryPeriod: number;
  trustedProxy?: string[];
  onlyNamespace?: string[];
  logLevel: string;
  slackApi: string;
  advertiseUrl?: string;
  decisionRetention: number;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function prometheusUrl(value: string): string {
  if (!/^https?:\/\/[^/]/.test(value)) throw new InvalidArgumentError(`expected the Prometheus base URL, e.g. http://prometheus.monitoring:9090, got "${value}"`);
  return value;
}

function advertiseUrl(value: string): string {
  const problem = advertiseUrlProblem(value);
  if (problem !== undefined) throw new InvalidArgumentError(problem);
  return value.replace(/\/+$/, '');
}

function slackApiUrl(value: string): string {
  if (!/^https?:\/\/[^/]/.test(value)) throw new InvalidArgumentError(`expected the Slack Web API base URL, e.g. ${DEFAULT_SLACK_API}, got "${value}"`);
  return value;
}

export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('Watch Deployments and metrics; roll back when every condition holds, otherwise open a decision for a human.')
    .option('--kubeconfig <file>', 'kubeconfig to use (default: KUBECONFIG, in-cluster, ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .requiredOption('--prometheus <url>', 'Prometheus base URL (bearer token from PROMETHEUS_BEARER_TOKEN)', prometheusUrl)
    .option('--policy <file>', 'policy YAML/JSON: {default: {...}, namespaces: {NS: {...}}}; re-read when it changes')
    .addOption(policySourceOption())
    .option('--namespace <ns>', "rollguard's own namespace, where the Lease lives (default: the pod's, else rollguard)")
    .option('--id <name>', 'holder identity for leader election', hostname())
    .option('--port <port>', 'plain-HTTP port for /healthz, /readyz, /metrics, /alertmanager, /decisions', parsePort, 8080)
    .addOption(hostOption())
    .option('--advertise-url <url>', "this replica's base URL for the other replicas, written into the Lease while it leads; standbys forward Alertmanager's notifications there (default: http://HOST:PORT when --host names one address, else http://$POD_IP:PORT, else http://127.0.0.1:PORT)", advertiseUrl)
    .addOption(durationOption('--interval <duration>', "how often every deploy in its window is re-evaluated (default: the policy's metrics step)"))
    .addOption(durationOption('--lease-duration <duration>', 'how long a standby waits on an unrenewed Lease before taking over', 15_000))
    .addOption(durationOption('--renew-deadline <duration>', 'how long the leader acts without a successful renewal (must be below --lease-duration)', 10_000))
    .addOption(durationOption('--retry-period <duration>', 'how often the Lease is renewed or tried', 2_000))
    .option('--trusted-proxy <address>', 'source address of an authenticating proxy whose X-Remote-User/X-Remote-Group headers the decision page believes; repeatable', collect)
    .option('--only-namespace <ns>', 'evaluate and act on Deployments in this namespace only; repeatable (default: every namespace)', collect)
    .option('--log-level <level>', 'pino log level', 'info')
    .option('--slack-api <url>', 'Slack Web API base URL (a test double or a proxy)', slackApiUrl, DEFAULT_SLACK_API)
    .addOption(durationOption('--decision-retention <duration>', 'how long a closed decision (its RollbackDecision) is kept before it is deleted', DEFAULT_RETENTION_MS))
    .action(withCleanErrors('agent', runAgent));
}

async function runAgent(opts: AgentCliOptions): Promise<void> {
  const logger = pino({ level: opts.logLevel, base: { component: 'rollguard-agent', id: opts.id } });
  const kubeConfig = await loadKubeConnection({ kubeconfig: opts.kubeconfig, context: opts.context });
  const choice = choosePolicySource(opts);
  let policies: PolicySource;
  if (choice.type === 'crd') policies = await CrdPolicySource.open({ kubeConfig, logger });
  else if (choice.type === 'file') policies = await FilePolicySource.open(choice.path, logger);
  else policies = new StaticPolicySource();
  const token = process.env.PROMETHEUS_BEARER_TOKEN;
  const sources = new Map<string, MetricSource>();
  const sourceFor = (policy: Policy): MetricSource => {
    const key = JSON.stringify(policy.metrics);
    let s = sources.get(key);
    if (s === undefined) {
      s = new PrometheusSource({ url: opts.prometheus, metrics: policy.metrics, ...(token ? { bearerToken: token } : {}) });
      sources.set(key, s);
    }
    return s;
  };
  const namespace = ownNamespace(opts.namespace);
  const rest = new KubeRest(kubeConfig);
  const secrets = new SecretValues(rest, namespace);
  // Slack and the generic webhook, as the policy of each decision's namespace configures them.
  const notifications = new NotificationSinks({
    policyFor: (ns) => policies.policyFor(ns),
    secrets,
    logger,
    slack: { apiBase: opts.slackApi },
  });
  const agent = new Agent({
    kubeConfig,
    namespace,
    sinks: [notifications],
    secrets,
    identity: opts.id,
    policies,
    sourceFor,
    logger,
    defaultMetrics: true,
    lease: { durationMs: opts.leaseDuration, renewDeadlineMs: opts.renewDeadline, retryPeriodMs: opts.retryPeriod },
    trustedProxies: opts.trustedProxy ?? [],
    slackApi: { apiBase: opts.slackApi },
    decisionRetentionMs: opts.decisionRetention,
    probes: agentDependencyProbes({ policies, origin: choice, namespace, secrets, rest, slackApi: { apiBase: opts.slackApi } }),
    ...(opts.onlyNamespace === undefined ? {} : { namespaces: opts.onlyNamespace }),
    ...(opts.interval === undefined ? {} : { intervalMs: opts.interval }),
  });
  const host = listenHost(opts.host, process.env);
  const http = await startAgentHttp(agent, logger, opts.port, host);
  // A replica listening on one address is reached there; one listening everywhere, on its pod IP.
  const advertised = opts.advertiseUrl ?? defaultAdvertiseUrl(host !== undefined && !WILDCARDS.has(host) ? host : process.env.POD_IP, http.port);
  agent.lease.advertise(advertised);
  logger.info({ host: host ?? 'every interface', port: http.port, advertised, namespace: ownNamespace(opts.namespace), prometheus: opts.prometheus, policies: policies.describe(), intervalMs: agent.intervalMs() }, 'agent starting');
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing running evaluations, releasing the lease');
    void agent
      .stop()
      .then(() => http.close())
      .then(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  await agent.start();
  logger.info({ ready: agent.readiness().reason }, 'agent watching');
}
