import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { packageRoot } from './package-root.js';

/** The `rollguard` command itself, before any verb is registered. */
export function baseProgram(): Command {
  return new Command()
    .name('rollguard')
    .description('Decides when a Kubernetes rollback may happen without a human.')
    .version((JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version, '-V, --version', 'print the version and exit')
    .showHelpAfterError();
}
