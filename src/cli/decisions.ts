import type { KubernetesObject } from '@kubernetes/client-node';
import { Command, Option } from 'commander';
import { DEFAULT_DECISION_TTL_MS } from '../agent/apply.js';
import { recordedDecision, type RecordedDecision } from '../agent/recorded-decision.js';
import type { Deployment } from '../core/kube.js';
import { loadKubeConfig } from '../kube/kubeconfig.js';
import { listObjects } from '../kube/list-objects.js';
import { withCleanErrors } from './webhook-options.js';

// `rollguard decisions`: the agent's decisions as the Deployments record them, with the caller's
// own credentials (no access to the agent needed). Open ones by default; --all for every state.

interface DecisionsOptions {
  namespace?: string;
  allNamespaces?: boolean;
  all?: boolean;
  kubeconfig?: string;
  context?: string;
  output: 'text' | 'json';
}

export async function readDecisions(opts: Pick<DecisionsOptions, 'namespace' | 'kubeconfig' | 'context'>, now: number): Promise<RecordedDecision[]> {
  const kc = loadKubeConfig({ kubeconfig: opts.kubeconfig, context: opts.context });
  const path = opts.namespace === undefined ? '/apis/apps/v1/deployments' : `/apis/apps/v1/namespaces/${opts.namespace}/deployments`;
  const listed = await listObjects<KubernetesObject>(kc, path, true).catch((err: unknown) => {
    throw new Error(`cannot list Deployments${opts.namespace === undefined ? ' in all namespaces (try -n NS)' : ` in ${opts.namespace}`}: ${err instanceof Error ? err.message : String(err)}`);
  });
  return listed.items.flatMap((d) => recordedDecision(d as Deployment, now, DEFAULT_DECISION_TTL_MS) ?? []);
}

function table(rows: readonly RecordedDecision[]): string {
  const header = ['NAMESPACE', 'DEPLOYMENT', 'ID', 'STATE', 'VERDICT', 'CONFIDENCE', 'SINCE', 'COMMAND'];
  const cells = rows.map((r) => [r.namespace, r.deployment, r.decision.id, r.state, r.decision.verdict, r.decision.confidence.toFixed(2), r.decision.since, r.decision.command ?? '-']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  return [header, ...cells].map((c) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

export function registerDecisions(program: Command): void {
  program
    .command('decisions')
    .description("List the agent's open decisions, as the Deployments record them (apply one with `rollguard apply ID`).")
    .option('-n, --namespace <ns>', 'only this namespace (default: all namespaces)')
    .option('--all', 'every recorded decision, not only the open ones (applied, superseded, in a blackout, expired)')
    .option('--kubeconfig <file>', 'kubeconfig to use')
    .option('--context <name>', 'kubeconfig context')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(withCleanErrors('decisions', async (opts: DecisionsOptions) => {
      const rows = (await readDecisions(opts, Date.now())).filter((r) => opts.all === true || r.state === 'open');
      if (opts.output === 'json') {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      process.stdout.write(rows.length === 0 ? `no ${opts.all === true ? '' : 'open '}decisions${opts.namespace === undefined ? '' : ` in ${opts.namespace}`}\n` : `${table(rows)}\n`);
    }));
}
