#!/usr/bin/env node
import type { Command } from 'commander';
import { baseProgram } from './base-program.js';

// The long-running verbs load only their own modules: every other verb's imports (replay, reports,
// certificates, YAML) would stay resident in the agent's and the webhook's memory for nothing.
const LONG_RUNNING = new Map<string, () => Promise<(program: Command) => void>>([
  ['agent', async () => (await import('./agent.js')).registerAgent],
  ['webhook', async () => (await import('./webhook.js')).registerWebhook],
]);

async function programFor(verb: string | undefined): Promise<Command> {
  const only = verb === undefined ? undefined : LONG_RUNNING.get(verb);
  if (only === undefined) return (await import('./program.js')).buildProgram();
  const program = baseProgram();
  (await only())(program);
  return program;
}

const program = (await programFor(process.argv[2])).exitOverride((err) => {
  process.exit(err.exitCode === 0 ? 0 : 2);
});

await program.parseAsync(process.argv);
