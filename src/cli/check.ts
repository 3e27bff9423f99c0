import { InvalidArgumentError, Option, type Command } from 'commander';
import { checkAgentRbac, checkApiServer, checkDryRunStamped, checkLeaseHeld, checkWebhookRegistered, type InstallFacts } from '../check/cluster-checks.js';
import { checkDeploymentSeries, checkPrometheus } from '../check/metrics-checks.js';
import { checkSlack, SLACK_CHECK } from '../check/slack-checks.js';
import { SecretValues } from '../agent/secret-values.js';
import { DEFAULT_SLACK_API } from '../agent/slack/api.js';
import { checksJson, checksText, fail, guarded, type CheckResult } from '../check/result.js';
import type { Deployment } from '../core/kube.js';
import { loadKubeConnection } from '../kube/kubeconfig.js';
import { KubeRest, paths } from '../kube/rest.js';
import { DEFAULT_AGENT_SERVICE_ACCOUNT, DEFAULT_NAMESPACE } from '../kube/service-account.js';
import { policyInEffect } from './inspect-policy.js';
import { withCleanErrors } from './webhook-options.js';

// `rollguard check`: is this install working? A ✓/✗ list in seconds, from the caller's kubeconfig,
// with the fix for each ✗; exit 1 when anything failed, `-o json` for scripts.

interface CheckOptions {
  kubeconfig?: string;
  context?: string;
  namespace: string;
  name: string;
  agentServiceAccount: string;
  lease: string;
  dryRunNamespace: string;
  prometheus?: string;
  deployment?: { namespace: string; name: string };
  policy?: string;
  slackApi: string;
  output: 'text' | 'json';
}

function parseTarget(value: string): { namespace: string; name: string } {
  const m = /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(value);
  if (m?.[1] === undefined || m[2] === undefined) throw new InvalidArgumentError(`expected NAMESPACE/NAME of a Deployment, e.g. shop/checkout, got "${value}"`);
  return { namespace: m[1], name: m[2] };
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('Check an install from your kubeconfig: the webhook registered and stamping, the agent leading with enough RBAC, Prometheus answering, metrics matching a Deployment, Slack accepting its token. Exit 1 on any failure.')
    .option('--kubeconfig <file>', 'kubeconfig to use (default: KUBECONFIG, ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('--namespace <ns>', "rollguard's namespace (its Lease and service accounts)", DEFAULT_NAMESPACE)
    .option('--name <name>', 'name of the webhook configurations (the chart: the release name when it contains "rollguard", else RELEASE-rollguard)', 'rollguard')
    .option('--agent-service-account <name>', "the agent's service account, whose RBAC is checked", DEFAULT_AGENT_SERVICE_ACCOUNT)
    .option('--lease <name>', "the agent's Lease", 'rollguard-agent')
    .option('--dry-run-namespace <ns>', 'namespace of the dry-run ConfigMap that must come back stamped (nothing is stored)', 'default')
    .option('--prometheus <url>', 'the Prometheus URL the agent uses, reachable from here (bearer token from PROMETHEUS_BEARER_TOKEN)')
    .option('--deployment <ns/name>', "check that the policy's metric selectors find this Deployment's series (needs --prometheus)", parseTarget)
    .option('--policy <file>', 'the policy file the agent runs with (default: the policy CRDs in the cluster)')
    .option('--slack-api <url>', 'Slack Web API base URL the agent uses (its --slack-api)', DEFAULT_SLACK_API)
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(withCleanErrors('check', runCheck));
}

async function runCheck(opts: CheckOptions): Promise<void> {
  const kc = await loadKubeConnection({ kubeconfig: opts.kubeconfig, context: opts.context });
  const rest = new KubeRest(kc);
  const now = Date.now();
  const facts: InstallFacts = { namespace: opts.namespace, webhookName: opts.name, agentServiceAccount: opts.agentServiceAccount, leaseName: opts.lease, dryRunNamespace: opts.dryRunNamespace, now };
  const token = process.env.PROMETHEUS_BEARER_TOKEN;
  const results: CheckResult[] = [await checkApiServer(rest)];
  if (results[0]?.status === 'pass') {
    results.push(...(await Promise.all([checkWebhookRegistered(rest, facts), checkDryRunStamped(rest, facts), checkLeaseHeld(rest, facts), checkAgentRbac(rest, facts)])));
  }
  results.push(await checkPrometheus(opts.prometheus, token));
  // Slack as the cluster default (the policy of rollguard's namespace) configures it; its Secret lives there.
  if (results[0]?.status === 'pass') results.push(await slackCheck(rest, opts));
  if (opts.deployment !== undefined) results.push(await deploymentCheck(rest, opts, opts.deployment, token, now));
  process.stdout.write(opts.output === 'json' ? checksJson(results) : checksText(results));
  process.exitCode = results.some((r) => r.status === 'fail') ? 1 : 0;
}

function slackCheck(rest: KubeRest, opts: CheckOptions): Promise<CheckResult> {
  return guarded(SLACK_CHECK, 'give the policy the agent runs with (--policy FILE), or fix the policy CRDs', async () => {
    const { policy, from } = await policyInEffect(rest.connection, opts.namespace, opts.policy);
    return checkSlack({ policy, policyFrom: from, namespace: opts.namespace }, new SecretValues(rest, opts.namespace), opts.slackApi);
  });
}

async function deploymentCheck(rest: KubeRest, opts: CheckOptions, target: { namespace: string; name: string }, token: string | undefined, now: number): Promise<CheckResult> {
  let deployment: Deployment;
  try {
    deployment = await rest.get<Deployment>(paths.deployment(target.namespace, target.name));
  } catch (err) {
    return fail(`metric selectors match ${target.namespace}/${target.name}`, err instanceof Error ? err.message : String(err), 'name an existing Deployment as NAMESPACE/NAME');
  }
  const { policy, from } = await policyInEffect(rest.connection, target.namespace, opts.policy);
  return checkDeploymentSeries(opts.prometheus, token, { deployment, policy, policyFrom: from }, now);
}
