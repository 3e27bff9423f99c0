import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { packageRoot } from './package-root.js';
import { registerDecide } from './decide.js';
import { registerExamples } from './examples.js';
import { registerInspect } from './inspect.js';
import { registerCerts } from './certs.js';
import { registerManifests } from './manifests.js';
import { registerWebhook } from './webhook.js';
import { registerReplay } from './replay.js';
import { registerAgent } from './agent.js';
import { registerApply } from './apply.js';
import { registerDecisions } from './decisions.js';
import { registerCheck } from './check.js';

/** The `rollguard` command with every verb; each verb lives in its own file and registers itself here. */
export function rollguardProgram(): Command {
  const program = new Command()
    .name('rollguard')
    .description('Decides when a Kubernetes rollback may happen without a human.')
    .version((JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version, '-V, --version', 'print the version and exit')
    .showHelpAfterError()
    .exitOverride((err) => {
      process.exit(err.exitCode === 0 ? 0 : 2);
    });
  for (const register of [registerDecide, registerExamples, registerInspect, registerWebhook, registerCerts, registerManifests, registerReplay, registerAgent, registerDecisions, registerApply, registerCheck]) register(program);
  return program;
}
