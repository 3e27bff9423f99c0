import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { withCleanErrors } from './webhook-options.js';
import { stringify } from 'yaml';
import { webhookConfigurations } from '../admission/manifests.js';
import { decisionCrdFile, policyCrdFiles } from './crd-files.js';
import { agentApplyRbac, agentRbac } from '../agent/rbac.js';
import { DEFAULT_AGENT_SERVICE_ACCOUNT, DEFAULT_NAMESPACE } from '../kube/service-account.js';

interface ManifestsOptions {
  namespace?: string;
  service?: string;
  url?: string;
  caBundle?: string;
  agentRbac?: boolean;
  agentServiceAccount: string;
  applyButton?: boolean;
  crds?: boolean;
  outDir?: string;
  name: string;
  kubeVersion?: string;
}

/** Accepts the PEM CA file (certs/ca.crt) or the base64 line `rollguard certs` prints. */
export function caBundleFrom(text: string, file: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN CERTIFICATE-----')) return Buffer.from(`${trimmed}\n`).toString('base64');
  const decoded = Buffer.from(trimmed, 'base64').toString('utf8');
  if (/^[A-Za-z0-9+/=\s]+$/.test(trimmed) && decoded.startsWith('-----BEGIN CERTIFICATE-----')) return trimmed.replace(/\s+/g, '');
  throw new Error(`${file} is neither a PEM certificate nor the base64 of one; pass certs/ca.crt from \`rollguard certs\``);
}

export function registerManifests(program: Command): void {
  program
    .command('manifests')
    .description('Print the Mutating/ValidatingWebhookConfiguration YAML for the webhook, behind a Service (--service) or at a URL outside the cluster (--url); or, with --agent-rbac, the agent\'s ServiceAccount and least-privilege RBAC; or, with --crds, the CRDs (the policies, RollbackDecision).')
    .option('--namespace <ns>', `rollguard's namespace (excluded from admission, like kube-system) and the Service's; default ${DEFAULT_NAMESPACE} with --url`)
    .option('--service <name>', 'the Service in front of `rollguard webhook` (needs --namespace)')
    .option('--url <https-url>', 'base URL of a webhook outside the cluster, e.g. https://127.0.0.1:8443 (tests, local development)')
    .option('--ca-bundle <file>', 'the CA that signed the serving certificate (certs/ca.crt); required for the webhook configurations')
    .option('--name <name>', 'name of the two webhook configurations: a local webhook next to a Helm release needs its own (the chart uses the release name)', 'rollguard')
    .option('--kube-version <version>', "the cluster's Kubernetes version (`kubectl version`): from 1.28 the mutating webhook gets matchConditions that leave leader-election ConfigMaps alone; without it none are printed, which every version accepts")
    .option('--agent-rbac', "print the agent's ServiceAccount, ClusterRole, Role (its Lease) and bindings in --namespace instead")
    .option('--agent-service-account <name>', "the agent's ServiceAccount name (with --agent-rbac)", DEFAULT_AGENT_SERVICE_ACCOUNT)
    .option('--apply-button', 'with --agent-rbac: also the TokenReview, SubjectAccessReview and impersonation the apply button needs')
    .option('--crds', 'print the CRDs (ClusterRollbackPolicy, RollbackPolicy, RollbackDecision) instead')
    .option('--out-dir <dir>', 'with --crds: write one file per CRD into DIR (as in charts/rollguard/crds/) instead of printing')
    .action(withCleanErrors('manifests', async (opts: ManifestsOptions) => {
      if (opts.outDir !== undefined && opts.crds !== true) throw new Error('--out-dir is only for --crds');
      if (opts.crds === true) {
        const files = [...policyCrdFiles(), decisionCrdFile()];
        if (opts.outDir === undefined) {
          process.stdout.write(files.map((f) => f.text).join('---\n'));
          return;
        }
        const dir = opts.outDir;
        await mkdir(dir, { recursive: true });
        for (const f of files) await writeFile(join(dir, f.name), f.text);
        process.stdout.write(`${files.map((f) => join(dir, f.name)).join('\n')}\n`);
        return;
      }
      if (opts.agentRbac === true) {
        // The cluster-wide names follow --name, so a local agent's roles never rebind a Helm release's.
        const rbacOpts = { namespace: opts.namespace ?? DEFAULT_NAMESPACE, serviceAccount: opts.agentServiceAccount, name: `${opts.name}-agent` };
        const docs = [...agentRbac(rbacOpts), ...(opts.applyButton === true ? agentApplyRbac(rbacOpts) : [])];
        process.stdout.write(docs.map((d) => stringify(d)).join('---\n'));
        return;
      }
      if (opts.caBundle === undefined) throw new Error('--ca-bundle FILE is required for the webhook configurations (certs/ca.crt from `rollguard certs`)');
      if (opts.service !== undefined && opts.url === undefined && opts.namespace === undefined) throw new Error('--service needs --namespace: the namespace of the Service in front of the webhook');
      const caBundleFile = opts.caBundle;
      const caBundle = caBundleFrom(await readFile(caBundleFile, 'utf8'), caBundleFile);
      const docs = webhookConfigurations({ namespace: opts.namespace ?? DEFAULT_NAMESPACE, service: opts.service, url: opts.url, caBundle, name: opts.name, ...(opts.kubeVersion === undefined ? {} : { kubeVersion: opts.kubeVersion }) });
      process.stdout.write(docs.map((d) => stringify(d)).join('---\n'));
    }));
}
