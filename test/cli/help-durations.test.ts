import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/core/duration.js';
import { buildProgram } from '../../src/cli/program.js';
import { runCli } from '../support/run-cli.js';

// Every duration flag of every verb prints its default as the policy writes durations ("15s",
// "7d"), never as the milliseconds the code holds ("15000").

function verbs(command: Command): Command[] {
  return command.commands.flatMap((c) => [c, ...verbs(c)]);
}

const program = buildProgram();
const durationFlags = verbs(program).flatMap((verb) => verb.options.filter((o) => o.flags.includes('<duration>')).map((option) => ({ verb, option })));

describe('F5 help prints durations in the policy form', () => {
  it('F5 the duration flags are found (the agent has five)', () => {
    expect(durationFlags.filter((f) => f.verb.name() === 'agent').map((f) => f.option.long)).toEqual(['--interval', '--lease-duration', '--renew-deadline', '--retry-period', '--decision-retention']);
  });

  it.each(durationFlags.filter((f) => f.option.defaultValue !== undefined).map((f) => [`${f.verb.name()} ${String(f.option.long)}`, f] as const))('F5 %s: its help default reads back as the default it holds', (_name, { verb, option }) => {
    const help = verb.helpInformation().replace(/\s+/g, ' ');
    const shown = new RegExp(`${String(option.long)} <duration> [^(]*(?:\\([^)]*\\)[^(]*)*?\\(default: ([^)]+)\\)`).exec(help)?.[1];
    expect(shown).toBeDefined();
    expect(shown).not.toMatch(/^\d+$/);
    expect(parseDuration(shown ?? '')).toBe(option.defaultValue);
  });

  it('F5 no verb prints a duration flag default as a bare number of milliseconds', () => {
    for (const verb of verbs(program)) {
      const help = verb.helpInformation().replace(/\s+/g, ' ');
      for (const { option } of durationFlags.filter((f) => f.verb === verb)) {
        const text = help.slice(help.indexOf(`${String(option.long)} <duration>`)).split(/ --[a-z]/)[0];
        expect(text, `${verb.name()} ${String(option.long)}`).not.toMatch(/default: \d+\)/);
      }
    }
  });

  it('F5 rollguard agent --help, as a user runs it: --lease-duration (default: 15s), --decision-retention (default: 7d)', () => {
    const r = runCli(['agent', '--help']);
    expect(r.status).toBe(0);
    const help = r.stdout.replace(/\s+/g, ' ');
    expect(help).toMatch(/--lease-duration <duration> [^-]*\(default: 15s\)/);
    expect(help).toMatch(/--renew-deadline <duration> .*?\(default: 10s\)/);
    expect(help).toMatch(/--retry-period <duration> [^-]*\(default: 2s\)/);
    expect(help).toMatch(/--decision-retention <duration> [^-]*\(default: 7d\)/);
  });
});
