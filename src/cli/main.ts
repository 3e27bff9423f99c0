#!/usr/bin/env node
import { Command } from 'commander';
import { registerDecide } from './decide.js';
import { registerExamples } from './examples.js';
import { registerInspect } from './inspect.js';

// Each verb lives in its own file and registers itself here.
const program = new Command()
  .name('rollguard')
  .description('Decides when a Kubernetes rollback may happen without a human.')
  .showHelpAfterError()
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

for (const register of [registerDecide, registerExamples, registerInspect]) register(program);

await program.parseAsync(process.argv);
