import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { KubeObject } from '../core/kube.js';
import { KubeConfigError, loadKubeConnection } from '../kube/kubeconfig.js';
import { KubeReadError, readMetadata } from '../kube/read-metadata.js';
import { resourceFor } from '../kube/resources.js';
import type { PolicyExplanation } from '../core/policy-provenance.js';
import { renderPolicyExplanation } from '../render/policy-text.js';
import { renderKeyReference, renderStampReport, stampReport, type StampReport } from '../render/stamps-text.js';
import { explainFromCluster, explainFromFile } from './inspect-policy.js';
import { InputError, reportInputError } from './read-json.js';

// `rollguard inspect`: shows the rollguard.io/ stamps of a Deployment, ConfigMap, Secret or Job
// and what they mean, from the cluster (metadata only) or from `kubectl get -o yaml|json` output;
// for a Deployment, also the policy that governs it (from the cluster, or --policy FILE).

interface InspectOptions {
  namespace: string;
  kubeconfig?: string;
  context?: string;
  output: 'text' | 'json';
  keys?: boolean;
  policy?: string;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Objects from a file: one object, a List (`kubectl get -o json`), or YAML documents. */
export function objectsFromText(text: string, source: string): KubeObject[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new InputError(source, [`not valid YAML or JSON: ${(err as Error).message}`]);
  }
  const items = (doc as { kind?: string; items?: unknown[] } | null)?.kind?.endsWith('List') ? (doc as { items: unknown[] }).items : [doc];
  const objects = items.filter((o): o is KubeObject => typeof o === 'object' && o !== null && 'metadata' in o);
  if (objects.length === 0) throw new InputError(source, ['expected a Kubernetes object or List with metadata (as printed by kubectl get -o yaml)']);
  return objects;
}

type Loaded = { objects: KubeObject[]; fromCluster: boolean };

async function load(target: string, opts: InspectOptions): Promise<Loaded> {
  const slash = target.indexOf('/');
  const resource = slash > 0 ? resourceFor(target.slice(0, slash)) : undefined;
  if (resource !== undefined) {
    return { objects: [await readMetadata(await loadKubeConnection(opts), resource, opts.namespace, target.slice(slash + 1))], fromCluster: true };
  }
  return { objects: await loadText(target), fromCluster: false };
}

async function loadText(target: string): Promise<KubeObject[]> {
  if (target === '-') return objectsFromText(await readStdin(), 'standard input');
  let text: string;
  try {
    text = await readFile(target, 'utf8');
  } catch (err) {
    throw new InputError(target, [`cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)}); to read from the cluster, write KIND/NAME such as deployment/checkout`]);
  }
  return objectsFromText(text, target);
}

/** A Deployment's governing policy: from --policy FILE, else from the cluster it was read from, else not shown. */
async function policyOf(o: KubeObject, loaded: Loaded, opts: InspectOptions): Promise<PolicyExplanation | undefined> {
  if (o.kind !== 'Deployment') return undefined;
  const namespace = o.metadata?.namespace ?? opts.namespace;
  if (opts.policy !== undefined) return explainFromFile(opts.policy, namespace);
  return loaded.fromCluster ? explainFromCluster(await loadKubeConnection(opts), namespace) : undefined;
}

type Inspected = StampReport & { policy?: PolicyExplanation };

function render(r: Inspected): string {
  const text = renderStampReport(r);
  return r.policy === undefined ? text : `${text}\n${renderPolicyExplanation(r.policy)}`;
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description("show an object's rollguard.io/ stamps, eligibility and blackout")
    .argument('[target]', 'KIND/NAME from the cluster (deployment/NAME, configmap/NAME, secret/NAME, job/NAME), a file, or - for stdin')
    .option('-n, --namespace <ns>', 'namespace of KIND/NAME', 'default')
    .option('--kubeconfig <file>', "kubeconfig file (default: KUBECONFIG, the pod's service account, ~/.kube/config)")
    .option('--context <name>', 'kubeconfig context')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--keys', 'print every rollguard.io/ key and what it means')
    .option('--policy <file>', 'for a Deployment: explain its policy from this policy file instead of the policy CRDs in the cluster')
    .action(async (target: string | undefined, opts: InspectOptions, command: Command) => {
      if (opts.keys) {
        process.stdout.write(`${renderKeyReference()}\n`);
        return;
      }
      // The command's own error, so the help that follows is inspect's, not the top-level one.
      if (target === undefined) command.error('rollguard inspect: give KIND/NAME, a file, or - (or --keys)', { exitCode: 2 });
      try {
        const now = Date.now();
        const loaded = await load(target, opts);
        const reports: Inspected[] = [];
        for (const o of loaded.objects) {
          const policy = await policyOf(o, loaded, opts);
          reports.push({ ...stampReport(o, now), ...(policy === undefined ? {} : { policy }) });
        }
        process.stdout.write(opts.output === 'json' ? `${JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2)}\n` : `${reports.map(render).join('\n\n')}\n`);
      } catch (err) {
        if (err instanceof KubeReadError || err instanceof KubeConfigError) {
          process.stderr.write(`rollguard inspect: ${err.message}\n`);
          process.exit(1);
        }
        reportInputError(err);
      }
    });
}
