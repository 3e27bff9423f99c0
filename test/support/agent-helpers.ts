import { KubeConfig } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import { Agent, type AgentOptions } from '../../src/agent/agent.js';
import { StaticPolicySource } from '../../src/agent/policy-source.js';
import { parsePolicySet, type PolicySet } from '../../src/policy/policy-file.js';
import type { Deployment, EnvFromSource } from '../../src/core/kube.js';
import type { Policy } from '../../src/core/policy.js';
import { paths } from '../../src/kube/rest.js';
import { PrometheusSource } from '../../src/metrics/prometheus.js';
import type { Stack } from './rollguard-stack.js';
import { waitFor } from './wait.js';

// Shared steps of the agent tests on the real control plane: the test policy (1 s steps), a
// Deployment manifest, a deploy, waiting for a rollout, and an in-process agent with short leases.

export const POLICY = `
default:
  metrics: { step: 1s, baseline: 5m }
  thresholds: { persistence: 3, minRequests: 100 }
`;

export function policySet(text = POLICY): PolicySet {
  const parsed = parsePolicySet(parseYaml(text));
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  return parsed.set;
}

export function deploymentManifest(name: string, image: string, extra: { labels?: Record<string, string>; annotations?: Record<string, string>; env?: EnvFromSource[] } = {}): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { 'app.kubernetes.io/name': name, ...extra.labels }, annotations: extra.annotations ?? {} },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: name, 'app.kubernetes.io/name': name } },
        spec: { containers: [{ name: 'app', image, ...(extra.env ? { envFrom: extra.env } : {}) }] },
      },
    },
  };
}

export async function rolledOut(stack: Stack, ns: string, name: string, image: string): Promise<Deployment> {
  return waitFor(`deployment ${ns}/${name} to run ${image} on every replica`, async () => {
    const d = await stack.admin.get<Deployment>(paths.deployment(ns, name));
    const s = d.status ?? {};
    const done = d.spec?.template?.spec?.containers?.[0]?.image === image && (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) && s.updatedReplicas === 2 && s.availableReplicas === 2 && s.replicas === 2;
    return done ? d : undefined;
  }, { timeoutMs: 60_000 });
}

/**
 * Waits until a whole step (POLICY's step and the scrape interval are 1 s) has passed after the one
 * holding `deployedAt`. Errors raised sooner may begin inside the scrape interval that holds the
 * deploy start, which Prometheus' unaligned scrapes can make any interval: at the tests' 100 req/s
 * that placement is rightly unknown (R1, the in-step onset). Tests whose regression follows the
 * deploy call this before raising the errors.
 */
export async function afterDeployStep(deployedAt: number, stepMs = 1000): Promise<void> {
  const next = (Math.floor(deployedAt / stepMs) + 2) * stepMs + stepMs / 2;
  if (Date.now() < next) await new Promise((r) => setTimeout(r, next - Date.now()));
}

/** Changes the image; resolves to the time just before the request (the deploy start is at or after it). */
export async function setImage(stack: Stack, ns: string, name: string, image: string): Promise<number> {
  const at = Date.now();
  await stack.admin.patch(paths.deployment(ns, name), 'strategic', { spec: { template: { spec: { containers: [{ name: 'app', image }] } } } });
  return at;
}

/** A new Deployment `name` at revision 2 after a clean deploy (image :1, then :2), waited into the metric step after the deploy's. */
export async function deployedTwice(stack: Stack, name: string, ns = stack.ns): Promise<void> {
  await stack.admin.create(`/apis/apps/v1/namespaces/${ns}/deployments`, deploymentManifest(name, `shop/${name}:1`));
  await rolledOut(stack, ns, name, `shop/${name}:1`);
  const deployedAt = await setImage(stack, ns, name, `shop/${name}:2`);
  await rolledOut(stack, ns, name, `shop/${name}:2`);
  await afterDeployStep(deployedAt);
}

/** A Deployment at revision 2 after a clean deploy, whose service then fails (a metric step after the deploy). */
export async function deployThenRegress(stack: Stack, name: string, ns = stack.ns): Promise<void> {
  await deployedTwice(stack, name, ns);
  stack.exporter.set(ns, name, { errorShare: 0.2 });
}

/** A `rollguard agent` process's arguments on `stack`, with the Lease timings startAgent gives (6 s / 4 s / 1 s). */
export function agentProcessArgs(stack: Stack, id: string, port: number, opts: { interval?: string; extra?: readonly string[] } = {}): string[] {
  return ['agent', '--kubeconfig', stack.agentKubeconfigPath, '--prometheus', stack.prometheus.url, '--policy', stack.policyPath, '--namespace', stack.own, '--id', id, '--port', String(port), '--interval', opts.interval ?? '1s', '--lease-duration', '6s', '--renew-deadline', '4s', '--retry-period', '1s', '--only-namespace', stack.ns, ...(opts.extra ?? [])];
}

/** `overrides` replace the test defaults (e.g. a long intervalMs so that only alerts trigger evaluations). */
export function startAgent(stack: Stack, identity: string, policyText = POLICY, overrides: Partial<AgentOptions> = {}): Agent {
  const set = policySet(policyText);
  return new Agent({
    kubeConfig: stack.agentKubeConfig(),
    namespace: stack.own,
    identity,
    policies: new StaticPolicySource(set),
    sourceFor: (policy: Policy) => new PrometheusSource({ url: stack.prometheus.url, metrics: policy.metrics }),
    logger: pino({ level: process.env.ROLLGUARD_TEST_LOG ?? 'silent' }),
    intervalMs: 1000,
    lease: { durationMs: 6000, renewDeadlineMs: 4000, retryPeriodMs: 1000 },
    restartDelayMs: 500,
    // The run's control plane is shared: each test's agent acts only on its own stack's namespaces.
    namespaces: [stack.ns, ...stack.more],
    ...overrides,
  });
}


/** An agent that is never started, on a kubeconfig that points nowhere: payload handling needs no cluster. */
export function offlineAgent(logger: Logger, identity = 'offline'): Agent {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'none', server: 'https://127.0.0.1:9', skipTLSVerify: false }],
    users: [{ name: 'none' }],
    contexts: [{ name: 'none', cluster: 'none', user: 'none' }],
    currentContext: 'none',
  });
  return new Agent({
    kubeConfig,
    namespace: 'rollguard',
    identity,
    policies: new StaticPolicySource(policySet()),
    sourceFor: () => {
      throw new Error('no metrics in this test');
    },
    logger,
    intervalMs: 10 * 60_000,
  });
}
