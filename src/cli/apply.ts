import type { Command } from 'commander';
import { DEFAULT_DECISION_TTL_MS } from '../agent/apply.js';
import { recordedDecision } from '../agent/recorded-decision.js';
import { rolloutUndoCommand } from '../core/command.js';
import { performRollback } from '../agent/rollback.js';
import type { Deployment, ReplicaSet } from '../core/kube.js';
import { loadKubeConnection } from '../kube/kubeconfig.js';
import { KubeRest, paths } from '../kube/rest.js';
import { addRollguardNamespaceOption, readDecisions } from './decisions.js';
import { withCleanErrors } from './webhook-options.js';

// `rollguard apply ID`: carry out an open decision with the caller's own kubeconfig credentials,
// through the same rollback as the agent and the apply button (one conditional patch with the
// record; the webhook names the caller in rolled-back-by and starts the blackout).

interface ApplyOptions {
  namespace?: string;
  kubeconfig?: string;
  context?: string;
  rollguardNamespace: string;
}

class ApplyRefused extends Error {}

async function apply(id: string, opts: ApplyOptions): Promise<void> {
  const now = Date.now();
  const listed = await readDecisions(opts, now);
  if (listed.note !== undefined) process.stderr.write(`${listed.note}\n`);
  const found = listed.decisions.find((r) => r.id === id);
  if (found === undefined) throw new ApplyRefused(`no decision ${id}${opts.namespace === undefined ? '' : ` in ${opts.namespace}`} (see rollguard decisions --all)`);
  // What the agent recorded wins: applied by someone, dismissed, expired.
  if (found.state !== 'open') throw new ApplyRefused(`decision ${id} cannot be applied: ${found.state}${found.stateReason === null ? '' : `: ${found.stateReason}`}`);
  const kc = await loadKubeConnection({ kubeconfig: opts.kubeconfig, context: opts.context });
  const rest = new KubeRest(kc);
  // Judged again on the full object: the template itself, not only its stamp.
  const deployment = await rest.get<Deployment>(paths.deployment(found.namespace, found.deployment));
  const judged = recordedDecision(deployment, now, DEFAULT_DECISION_TTL_MS);
  if (judged !== undefined && (judged.decision.id !== id || judged.state !== 'open')) throw new ApplyRefused(`decision ${id} cannot be applied: ${judged.decision.id !== id ? 'superseded by a newer decision' : judged.reason}`);
  const toRevision = judged?.toRevision ?? found.toRevision ?? undefined;
  if (toRevision === undefined) throw new ApplyRefused(`decision ${id} has no revision to roll back to`);
  const replicaSets = (await rest.get<{ items: ReplicaSet[] }>(paths.replicaSets(found.namespace))).items;
  const user = kc.userName ?? 'unknown';
  const outcome = await performRollback({
    rest,
    deployment,
    replicaSets,
    decisionId: id,
    toRevision,
    by: `${user} (rollguard apply)`,
    reason: `applied with rollguard apply by kubeconfig user ${user}: ${rolloutUndoCommand(found.namespace, found.deployment, toRevision)}`,
    blackoutMs: 10 * 60_000,
    now,
  });
  if (outcome.result !== 'rolled-back') throw new ApplyRefused(`not rolled back (${outcome.result}): ${outcome.message}`);
  process.stdout.write(`rolled back deployment/${found.deployment} -n ${found.namespace} from revision ${outcome.fromRevision ?? 'unknown'} to ${outcome.toRevision}${outcome.partial ? ' (from a partially rolled-out state)' : ''}; decision ${id}\n`);
}

export function registerApply(program: Command): void {
  const command = program
    .command('apply <id>')
    .description('Carry out an open decision (roll the Deployment back) with your own kubeconfig credentials.')
    .option('-n, --namespace <ns>', "the decision's namespace (faster; default: search all)")
    .option('--kubeconfig <file>', 'kubeconfig to use')
    .option('--context <name>', 'kubeconfig context');
  addRollguardNamespaceOption(command).action(withCleanErrors('apply', (id: string, opts: ApplyOptions) => apply(id, opts)));
}
