import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { withCleanErrors } from './webhook-options.js';
import { stringify } from 'yaml';
import { webhookConfigurations } from '../admission/manifests.js';
import { DEFAULT_NAMESPACE } from '../kube/service-account.js';

interface ManifestsOptions {
  namespace?: string;
  service?: string;
  url?: string;
  caBundle: string;
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
    .description('Print the Mutating/ValidatingWebhookConfiguration YAML for the webhook, behind a Service (--service) or at a URL outside the cluster (--url).')
    .option('--namespace <ns>', `rollguard's namespace (excluded from admission, like kube-system) and the Service's; default ${DEFAULT_NAMESPACE} with --url`)
    .option('--service <name>', 'the Service in front of `rollguard webhook` (needs --namespace)')
    .option('--url <https-url>', 'base URL of a webhook outside the cluster, e.g. https://127.0.0.1:8443 (tests, local development)')
    .requiredOption('--ca-bundle <file>', 'the CA that signed the serving certificate (certs/ca.crt)')
    .action(withCleanErrors('manifests', async (opts: ManifestsOptions) => {
      if (opts.service !== undefined && opts.url === undefined && opts.namespace === undefined) throw new Error('--service needs --namespace: the namespace of the Service in front of the webhook');
      const caBundle = caBundleFrom(await readFile(opts.caBundle, 'utf8'), opts.caBundle);
      const docs = webhookConfigurations({ namespace: opts.namespace ?? DEFAULT_NAMESPACE, service: opts.service, url: opts.url, caBundle });
      process.stdout.write(docs.map((d) => stringify(d)).join('---\n'));
    }));
}
