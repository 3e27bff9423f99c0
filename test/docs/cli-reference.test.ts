import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { firstCells, readPage, section } from './markdown.js';

// docs/reference.md lists every flag of every verb, and only flags that exist: each verb's section
// (`### \`rollguard VERB\``) has a table whose first cells name the flags, compared with what that
// verb's --help prints (commander's own list of visible options, read in-process: no spawn).

const reference = readPage('docs/reference.md');
const program = buildProgram();

/** The flags --help prints for a command, long and short forms, without -h/--help. */
function helpFlags(cmd: Command): string[] {
  const help = cmd.createHelp();
  return help
    .visibleOptions(cmd)
    .filter((o) => o.long !== '--help')
    .flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined));
}

/** The flags a verb's section of the reference documents: every -x / --xyz in its tables' first cells. */
function documentedFlags(anchor: string): string[] {
  return firstCells(section(reference, anchor)).flatMap((cell) => [...cell.matchAll(/(?<![\w-])(--?[a-zA-Z][\w-]*)/g)].map((m) => m[1] ?? ''));
}

const verbs: [string, string, Command][] = [['rollguard', 'rollguard', program], ...program.commands.filter((c) => c.name() !== 'help').map((c): [string, string, Command] => [`rollguard ${c.name()}`, `rollguard-${c.name()}`, c])];

describe('docs/reference.md documents every CLI flag, and only real ones', () => {
  it('has a section for every verb', () => {
    expect(verbs.length).toBeGreaterThan(10);
    const missing = verbs.filter(([, anchor]) => {
      try {
        section(reference, anchor);
        return false;
      } catch {
        return true;
      }
    });
    expect(missing.map(([name]) => `docs/reference.md has no "### \`${name}\`" section`)).toEqual([]);
  });

  it.each(verbs)('%s: every flag --help prints is in the reference', (name, anchor, cmd) => {
    const documented = new Set(documentedFlags(anchor));
    const missing = helpFlags(cmd).filter((f) => !documented.has(f));
    expect(missing.map((f) => `${name} --help prints ${f}, which docs/reference.md#${anchor} does not document`)).toEqual([]);
  });

  it.each(verbs)('%s: every flag in the reference is one --help prints', (name, anchor, cmd) => {
    const real = new Set(helpFlags(cmd));
    const invented = documentedFlags(anchor).filter((f) => !real.has(f));
    expect(invented.map((f) => `docs/reference.md#${anchor} documents ${f}, which ${name} --help does not print`)).toEqual([]);
  });
});
