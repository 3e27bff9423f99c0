import type { Command } from 'commander';
import { CrdPolicySource } from '../agent/crd-policy-source.js';
import { pino, type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { policySourceProbe } from '../agent/dependency-probes.js';
import { registryHealth, type RegistryHealth } from '../health/registry-health.js';
import { KubeRest } from '../kube/rest.js';
import { createMetrics } from '../admission/metrics.js';
import { InformerStampCache } from '../stamps/informer-stamp-cache.js';
import { DEFAULT_POLICY_SET, loadPolicySet, resolver } from '../policy/policy-file.js';
import { DEFAULT_REVIEW_DEADLINE_MS } from '../admission/deadline.js';
import { startWebhookServer } from '../admission/server.js';
import { InMemoryStampCache, type StampCache } from '../stamps/stamp-cache.js';
import { loadKubeConnection } from '../kube/kubeconfig.js';
import { DEFAULT_AGENT_SERVICE_ACCOUNT, DEFAULT_NAMESPACE, ownNamespace, SERVICE_ACCOUNT_DIR } from '../kube/service-account.js';
import { choosePolicySource, policySourceOption } from './policy-source-option.js';
import { durationOption } from './duration-option.js';
import { hostOption, listenHost } from './listen-host.js';
import { agentUsers, parseDeadline, parseDnsLabel, parseDnsSubdomain, parsePort, parseShedAbove, withCleanErrors } from './webhook-options.js';
import { DEFAULT_SHED_ABOVE } from '../admission/overload.js';

interface WebhookOptions {
  port: number;
  host?: string;
  tlsCert: string;
  tlsKey: string;
  healthPort?: number;
  policy?: string;
  policySource?: string;
  namespace?: string;
  agentServiceAccount: string;
  trustedUser?: string[];
  kube: boolean;
  kubeconfig?: string;
  context?: string;
  logLevel: string;
  deadline: number;
  shedAbove: number;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function registerWebhook(program: Command): void {
  program
    .command('webhook')
    .description('Serve the mutating (stamps) and validating (blackout guard) admission webhooks over HTTPS.')
    .option('--port <port>', 'HTTPS port for /mutate and /validate', parsePort, 8443)
    .addOption(hostOption())
    .requiredOption('--tls-cert <file>', 'serving certificate (PEM), e.g. certs/tls.crt from `rollguard certs`; reloaded when it changes')
    .requiredOption('--tls-key <file>', 'its private key (PEM)')
    .option('--health-port <port>', 'plain-HTTP port for /healthz, /readyz and /metrics', parsePort)
    .option('--policy <file>', 'policy YAML/JSON: {default: {...}, namespaces: {NS: {...}}}')
    .addOption(policySourceOption())
    .option('--namespace <ns>', `rollguard's own namespace, never stamped or guarded (default: the pod's, from ${SERVICE_ACCOUNT_DIR}/namespace, else ${DEFAULT_NAMESPACE})`, parseDnsLabel)
    .option('--agent-service-account <name>', "the agent's service account in --namespace, whose writes to rollguard-owned annotations stand", parseDnsSubdomain, DEFAULT_AGENT_SERVICE_ACCOUNT)
    .option('--trusted-user <user>', 'a user whose writes to rollguard-owned annotations stand; repeatable, replaces the --agent-service-account user', collect)
    .option('--kubeconfig <file>', "kubeconfig for the ConfigMap/Secret watch (default: KUBECONFIG, the pod's service account, ~/.kube/config)")
    .option('--context <name>', 'kubeconfig context')
    .option('--no-kube', 'do not watch ConfigMaps/Secrets in a cluster (every Deployment is then stamped with an unknown change set)')
    .option('--log-level <level>', 'pino log level', 'info')
    .addOption(durationOption('--deadline <duration>', "longest a review may wait for the stamp cache or the policies; past it the change is admitted unstamped (unknown to the agent); keep it well under the configurations' timeoutSeconds", DEFAULT_REVIEW_DEADLINE_MS, parseDeadline))
    .option('--shed-above <utilization>', 'event-loop utilization (0.5–1) past which a share of mutating reviews is admitted unstamped (unknown to the agent) so that every review is still answered quickly; 1 never sheds', parseShedAbove, DEFAULT_SHED_ABOVE)
    .action(withCleanErrors('webhook', runWebhook));
}

function readiness(kube: boolean, cache: StampCache, crd: CrdPolicySource | undefined): { ready: boolean; reason: string } {
  if (kube && !cache.synced()) return { ready: false, reason: 'the ConfigMap/Secret stamp cache has not synced yet' };
  if (crd !== undefined && !crd.synced()) return { ready: false, reason: 'the policy CRD watch has not synced yet' };
  return { ready: true, reason: crd === undefined ? 'ready' : `ready; ${crd.describe()}` };
}

function webhookDependencies(registry: Registry, logger: Logger, rest: KubeRest, crds: boolean): RegistryHealth {
  const origin = crds ? { type: 'crd' as const } : { type: 'defaults' as const };
  return registryHealth({
    registry,
    prefix: 'rollguard_webhook',
    logger,
    probes: {
      apiserver: async () => {
        await rest.get('/version');
      },
      ...(crds ? { 'policy-source': policySourceProbe(origin, rest) } : {}),
    },
  });
}

async function runWebhook(opts: WebhookOptions): Promise<void> {
  if (!opts.kube && (opts.kubeconfig !== undefined || opts.context !== undefined)) throw new Error('--kubeconfig and --context choose a cluster; --no-kube runs without one');
  const logger = pino({ level: opts.logLevel, base: { component: 'rollguard-webhook' } });
  const choice = choosePolicySource(opts);
  if (choice.type === 'crd' && !opts.kube) throw new Error('--policy-source crd watches the policy objects in a cluster; --no-kube runs without one');
  // One connection (one pool of TLS connections) for the stamp cache, the policy CRDs and the probes.
  const kubeConnection = opts.kube ? await loadKubeConnection(opts) : undefined;
  const crd = choice.type === 'crd' && kubeConnection !== undefined ? await CrdPolicySource.open({ kubeConfig: kubeConnection, logger }) : undefined;
  const policyFor = crd !== undefined ? (ns: string) => crd.policyFor(ns) : resolver(choice.type === 'file' ? await loadPolicySet(choice.path) : DEFAULT_POLICY_SET);
  const namespace = ownNamespace(opts.namespace);
  const trustedUsers = agentUsers(opts.trustedUser, namespace, opts.agentServiceAccount);
  let cache: StampCache;
  let informer: InformerStampCache | undefined;
  if (kubeConnection !== undefined) {
    informer = new InformerStampCache({ kubeConfig: kubeConnection, logger, clock: Date.now });
    cache = informer;
    // Not awaited: until the cache has synced, Deployments are stamped with an unknown change set.
    informer.start().catch((err: unknown) => {
      logger.error({ error: err instanceof Error ? err.message : String(err) }, 'stamp cache could not start');
    });
  } else {
    cache = new InMemoryStampCache({ synced: false });
  }
  logger.info({ namespace, trustedUsers }, 'skipping kube-system and its own namespace; trusting the agent');
  const metrics = createMetrics({ defaultMetrics: true });
  // The apiserver feeds the stamp cache's watch (and the policy CRDs): probed whatever is admitted.
  const dependencies = kubeConnection !== undefined ? webhookDependencies(metrics.registry, logger, new KubeRest(kubeConnection), choice.type === 'crd') : undefined;
  const server = await startWebhookServer({
    host: listenHost(opts.host, process.env),
    port: opts.port,
    healthPort: opts.healthPort,
    tlsCertFile: opts.tlsCert,
    tlsKeyFile: opts.tlsKey,
    logger,
    metrics,
    deadlineMs: opts.deadline,
    shedAbove: opts.shedAbove,
    mutate: { cache, policyFor, trustedUsers: new Set(trustedUsers), ownNamespace: namespace },
    ...(crd === undefined ? {} : { policies: crd }),
    ready: () => {
      const state = readiness(opts.kube, cache, crd);
      // A failing dependency is named but does not change readiness: the webhook fails open per
      // request, and an unready webhook would only move the apiserver's calls to a replica that sees no more.
      const failing = (dependencies?.health.down() ?? []).map((d) => dependencies?.health.describe(d.dependency));
      return { ready: state.ready, reason: [state.reason, ...failing].join('; ') };
    },
  });
  void dependencies?.start();
  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    crd?.stop();
    dependencies?.stop();
    void Promise.all([server.close(), informer?.stop()]).then(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
