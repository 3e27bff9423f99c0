import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { withCleanErrors } from './webhook-options.js';
import { stringify } from 'yaml';
import { webhookConfigurations } from '../admission/manifests.js';

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
    .description('Print the Mutating/ValidatingWebhookConfiguration YAML for the webhook service.')
    .requiredOption('--namespace <ns>', "rollguard's namespace (excluded from admission, like kube-system)")
    .requiredOption('--service <name>', 'the Service in front of `rollguard webhook`')
    .requiredOption('--ca-bundle <file>', 'the CA that signed the serving certificate (certs/ca.crt)')
    .action(withCleanErrors('manifests', async (opts: { namespace: string; service: string; caBundle: string }) => {
      const caBundle = caBundleFrom(await readFile(opts.caBundle, 'utf8'), opts.caBundle);
      const docs = webhookConfigurations({ namespace: opts.namespace, service: opts.service, caBundle });
      process.stdout.write(docs.map((d) => stringify(d)).join('---\n'));
    }));
}
