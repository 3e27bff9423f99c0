import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { runCli } from '../support/run-cli.js';

// `rollguard agent` and `rollguard webhook` register only their own verb (so the process does not
// keep every other verb's modules in memory); what a user sees of them must not change.

const program = buildProgram();

function full(verb: string): string {
  const command = program.commands.find((c) => c.name() === verb);
  if (command === undefined) throw new Error(`no verb ${verb}`);
  return command.helpInformation();
}

describe('F5 the long-running verbs read as in the full program', () => {
  it.each(['agent', 'webhook'])('F5 rollguard %s --help prints the same help as the full program', (verb) => {
    const r = runCli([verb, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(full(verb));
  });

  it('F5 a missing required option of the agent is refused with the usage', () => {
    const r = runCli(['agent', '--no-such-flag']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/required option '--prometheus <url>' not specified/);
    expect(r.stderr).toContain(full('agent'));
  });

  it('F5 the other verbs and the top-level help still list every verb', () => {
    const r = runCli(['--help']);
    expect(r.status).toBe(0);
    for (const verb of program.commands.map((c) => c.name())) expect(r.stdout).toContain(verb);
  });
});
