import { policyPaths } from '../policy/policy-crds.js';
import { loadPolicySet } from '../policy/policy-file.js';
import type { Dependency } from '../health/dependency-health.js';
import { NOT_CONFIGURED, type Probe } from '../health/prober.js';
import { connectProbe } from '../health/probes.js';
import type { KubeRest } from '../kube/rest.js';
import type { PolicySource } from './policy-source.js';
import type { SecretReader } from './secret-values.js';
import { SlackApi, type SlackApiOptions } from './slack/api.js';

// The agent's probes of its other dependencies, beside Prometheus and the apiserver: Slack and the
// decision webhook as rollguard's own namespace's policy (the cluster default) configures them,
// and where the policy comes from. A dependency that is not configured is not probed.

export type PolicyOrigin = { type: 'crd' } | { type: 'file'; path: string } | { type: 'defaults' };

export interface AgentProbeOptions {
  policies: PolicySource;
  origin: PolicyOrigin;
  /** rollguard's own namespace: its policy names the notification channels probed. */
  namespace: string;
  secrets: SecretReader;
  rest: KubeRest;
  slackApi: SlackApiOptions;
}

export function agentDependencyProbes(opts: AgentProbeOptions): Partial<Record<Dependency, Probe>> {
  // One attempt: the next probe is the retry, and a probe round must not take a minute.
  const slack = new SlackApi({ ...opts.slackApi, maxAttempts: 1, timeoutMs: 5000 });
  const notifications = () => opts.policies.policyFor(opts.namespace).notifications;
  return {
    slack: async () => {
      const config = notifications().slack;
      if (config?.botToken !== undefined) {
        await slack.authTest(await opts.secrets.read(config.botToken));
        return 'probed';
      }
      // An incoming webhook has no read method: its host accepting a connection is what can be known.
      if (config?.webhookUrl === undefined) return NOT_CONFIGURED;
      await connectProbe(await opts.secrets.read(config.webhookUrl));
      return 'probed';
    },
    'decision-webhook': async () => {
      const hook = notifications().webhook;
      if (hook === undefined) return NOT_CONFIGURED;
      await connectProbe(hook.url);
      return 'probed';
    },
    'policy-source': policySourceProbe(opts.origin, opts.rest),
  };
}

export function policySourceProbe(origin: PolicyOrigin, rest: KubeRest): Probe {
  if (origin.type === 'file') {
    const path = origin.path;
    return async () => {
      try {
        await loadPolicySet(path);
        return 'probed';
      } catch (err) {
        throw new Error(`the policy file ${path} cannot be used (the last valid policy stays in effect): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    };
  }
  if (origin.type === 'crd') {
    return async () => {
      for (const kind of ['ClusterRollbackPolicy', 'RollbackPolicy'] as const) await rest.get(`${policyPaths.collection(kind)}?limit=1`);
      return 'probed';
    };
  }
  return () => Promise.resolve(NOT_CONFIGURED);
}
