import type { Command } from 'commander';
import { withCleanErrors } from './webhook-options.js';
import { ensureCertificates } from '../certs/store.js';
import { parseNameList, parsePositiveInt } from './webhook-options.js';

export function registerCerts(program: Command): void {
  program
    .command('certs')
    .description('Create (or reuse) a CA and issue the webhook serving certificate; prints the base64 CA for caBundle.')
    .requiredOption('--out <dir>', 'directory for ca.crt, ca.key, tls.crt, tls.key')
    .requiredOption('--dns <names>', 'comma-separated DNS names (or IPs) for the SANs, e.g. rollguard-webhook.rollguard.svc', parseNameList)
    .option('--days <n>', 'validity of the serving certificate in days', parsePositiveInt, 365)
    .action(withCleanErrors('certs', async (opts: { out: string; dns: string[]; days: number }) => {
      const result = await ensureCertificates({ outDir: opts.out, names: opts.dns, days: opts.days, now: Date.now() });
      process.stderr.write(
        `${result.caCreated ? 'created a new CA' : 'reused the CA'} in ${result.paths.caCert}; ` +
          `${result.leafIssued ? `issued ${result.paths.cert} (${result.reason})` : `kept ${result.paths.cert} (${result.reason})`}\n` +
          'caBundle (base64 of ca.crt) on stdout:\n',
      );
      process.stdout.write(`${Buffer.from(result.caPem).toString('base64')}\n`);
    }));
}
