import type { Command } from 'commander';
import { baseProgram } from './base-program.js';
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

/** The `rollguard` command with every verb registered, not yet parsed (the docs tests read its help from it). */
export function buildProgram(): Command {
  // Each verb lives in its own file and registers itself here.
  const program = baseProgram();
  for (const register of [registerDecide, registerExamples, registerInspect, registerWebhook, registerCerts, registerManifests, registerReplay, registerAgent, registerDecisions, registerApply, registerCheck]) register(program);
  return program;
}
