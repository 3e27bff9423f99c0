import type { KubernetesObject } from '@kubernetes/client-node';
import { Command, Option } from 'commander';
import { DEFAULT_DECISION_TTL_MS } from '../agent/apply.js';
import { decisionPaths } from '../agent/decision-crd.js';
import { fromObject, type RollbackDecisionObject } from '../agent/decision-object.js';
import { recordedDecision, type RecordedDecision, type RecordedState } from '../agent/recorded-decision.js';
import { decisionV1, type DecisionV1 } from '../agent/webhook-payload.js';
import { CONDITION_KEYS, CONDITION_LABELS, type ConditionStatus } from '../core/decision-types.js';
import type { Deployment } from '../core/kube.js';
import { loadKubeConnection } from '../kube/kubeconfig.js';
import type { KubeConnection } from '../kube/connection.js';
import { listObjects } from '../kube/list-objects.js';
import { isStatus, KubeRest } from '../kube/rest.js';
import { withCleanErrors } from './webhook-options.js';

// `rollguard decisions`: the agent's decisions as the RollbackDecision objects in rollguard's
// namespace hold them, with the caller's own credentials (no access to the agent needed), in the
// same schema as GET /decisions and the webhook (rollguard.io/decision/v1). A caller who may not
// read them gets what the Deployments record (`rollguard.io/decision`), with a note saying so.

export const DEFAULT_ROLLGUARD_NAMESPACE = 'rollguard';

export interface DecisionsSource {
  namespace?: string | undefined;
  kubeconfig?: string | undefined;
  context?: string | undefined;
  rollguardNamespace: string;
}

interface DecisionsOptions extends DecisionsSource {
  allNamespaces?: boolean;
  all?: boolean;
  output: 'text' | 'json';
}

export interface ListedDecisions {
  decisions: DecisionV1[];
  /** Set when the objects could not be read and the Deployments' annotations were used instead. */
  note?: string;
}

const LETTER: Record<string, ConditionStatus> = { m: 'met', u: 'unmet', '?': 'unknown' };
const STATE: Record<RecordedState, string> = { open: 'open', applied: 'applied', 'rolled-back': 'rolled-back', superseded: 'superseded', 'in-blackout': 'open', expired: 'expired', automatic: 'open' };

/** The compact annotation in schema v1: what it does not record is empty or null. */
function fromAnnotation(r: RecordedDecision): DecisionV1 {
  const c = r.decision;
  return {
    id: c.id,
    url: null,
    namespace: r.namespace,
    deployment: r.deployment,
    service: '',
    state: STATE[r.state],
    stateReason: r.reason,
    verdict: c.verdict,
    summary: '',
    confidence: c.confidence,
    command: c.command,
    conditions: CONDITION_KEYS.map((key, i) => ({ key, label: CONDITION_LABELS[key], status: LETTER[c.conditions[i] ?? '?'] ?? 'unknown', evidence: '' })),
    blastRadius: { replicas: null, updatedReplicas: null, partial: false, trafficShare: null, sharedConfig: [] },
    owner: { kind: 'none', name: null, namespace: null, reconciles: false, route: [] },
    changeSet: { kind: 'unknown', reasons: [], notes: [] },
    notes: [],
    onset: null,
    firstDecidedAt: c.since,
    lastEvaluatedAt: c.since,
    handoff: null,
    toRevision: r.toRevision ?? null,
    actedBy: null,
  };
}

async function fromDeployments(kc: KubeConnection, opts: DecisionsSource, now: number): Promise<DecisionV1[]> {
  const path = opts.namespace === undefined ? '/apis/apps/v1/deployments' : `/apis/apps/v1/namespaces/${opts.namespace}/deployments`;
  const listed = await listObjects<KubernetesObject>(kc, path, true).catch((err: unknown) => {
    throw new Error(`cannot list Deployments${opts.namespace === undefined ? ' in all namespaces (try -n NS)' : ` in ${opts.namespace}`}: ${err instanceof Error ? err.message : String(err)}`);
  });
  return listed.items.flatMap((d) => recordedDecision(d as Deployment, now, DEFAULT_DECISION_TTL_MS) ?? []).map(fromAnnotation);
}

export async function readDecisions(opts: DecisionsSource, now: number): Promise<ListedDecisions> {
  const kc = await loadKubeConnection({ kubeconfig: opts.kubeconfig, context: opts.context });
  const rest = new KubeRest(kc);
  try {
    const list = await rest.get<{ items: RollbackDecisionObject[] }>(decisionPaths.collection(opts.rollguardNamespace));
    const decisions = list.items
      .flatMap((o) => fromObject(o) ?? [])
      .filter((r) => opts.namespace === undefined || r.namespace === opts.namespace)
      .sort((a, b) => b.firstDecidedAt - a.firstDecidedAt)
      .map((r) => decisionV1(r, undefined));
    return { decisions };
  } catch (err) {
    if (!isStatus(err, 401, 403, 404)) throw err;
    const why = isStatus(err, 404) ? 'none there (wrong --rollguard-namespace, or the CRD is not installed)' : 'not allowed';
    return { decisions: await fromDeployments(kc, opts, now), note: `note: cannot read the RollbackDecisions in namespace ${opts.rollguardNamespace} (${why}); showing what the Deployments record (rollguard.io/decision), which lacks who dismissed what and the evidence` };
  }
}

function table(rows: readonly DecisionV1[]): string {
  const header = ['NAMESPACE', 'DEPLOYMENT', 'ID', 'STATE', 'VERDICT', 'CONFIDENCE', 'SINCE', 'BY', 'COMMAND'];
  const cells = rows.map((r) => [r.namespace, r.deployment, r.id, r.state, r.verdict, r.confidence.toFixed(2), r.firstDecidedAt, r.actedBy?.by ?? '-', r.command ?? '-']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  return [header, ...cells].map((c) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

export function addRollguardNamespaceOption(command: Command): Command {
  return command.option('--rollguard-namespace <ns>', "rollguard's own namespace, where its RollbackDecisions are", DEFAULT_ROLLGUARD_NAMESPACE);
}

export function registerDecisions(program: Command): void {
  const command = program
    .command('decisions')
    .description("List the agent's open decisions (apply one with `rollguard apply ID`).")
    .option('-n, --namespace <ns>', "only this namespace's Deployments (default: all namespaces)")
    .option('--all', 'every decision, not only the open ones (applied, dismissed, superseded, expired, closed)')
    .option('--kubeconfig <file>', 'kubeconfig to use')
    .option('--context <name>', 'kubeconfig context')
    .addOption(new Option('-o, --output <format>', 'output format: text, or json (schema rollguard.io/decision/v1, as GET /decisions)').choices(['text', 'json']).default('text'));
  addRollguardNamespaceOption(command).action(withCleanErrors('decisions', async (opts: DecisionsOptions) => {
    const listed = await readDecisions(opts, Date.now());
    if (listed.note !== undefined) process.stderr.write(`${listed.note}\n`);
    const rows = listed.decisions.filter((r) => opts.all === true || r.state === 'open');
    if (opts.output === 'json') {
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    process.stdout.write(rows.length === 0 ? `no ${opts.all === true ? '' : 'open '}decisions${opts.namespace === undefined ? '' : ` in ${opts.namespace}`}\n` : `${table(rows)}\n`);
  }));
}
