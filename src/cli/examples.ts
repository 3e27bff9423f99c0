import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Command } from 'commander';
import { CONDITION_HEADER, CONDITION_LEGEND, conditionMarks, renderDecisionText, shortReason, WHY_WIDTH } from '../render/decision-text.js';
import { decideFile } from './decide.js';
import { packageRoot } from './package-root.js';
import { reportInputError } from './read-json.js';

// Decides every incident in a folder and prints one row each; fails when an incident states the
// verdict it must give and rollguard gives another.

export function registerExamples(program: Command): void {
  program
    .command('examples')
    .description('decide every example incident and print the verdict table')
    .argument('[dir]', 'folder of incident JSON files', join(packageRoot(), 'examples', 'incidents'))
    .option('-v, --verbose', 'print each full decision after the table')
    .action(async (dir: string, opts: { verbose?: boolean }) => {
      const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
      const rows: string[] = [];
      const details: string[] = [];
      let mismatches = 0;
      const nameWidth = Math.max(7, ...files.map((f) => basename(f, '.json').length));
      rows.push(`${'example'.padEnd(nameWidth)}  expect   verdict  ${CONDITION_HEADER}  conf  ${'why'.padEnd(WHY_WIDTH)}  command`);
      for (const f of files) {
        try {
          const { decision, expect } = await decideFile(join(dir, f));
          const ok = expect === undefined || expect === decision.verdict;
          if (!ok) mismatches++;
          rows.push(
            `${basename(f, '.json').padEnd(nameWidth)}  ${(expect ?? '-').padEnd(7)}  ${decision.verdict.padEnd(7)}${ok ? ' ' : '!'} ${conditionMarks(decision)}  ${decision.confidence.toFixed(2)}  ${shortReason(decision).padEnd(WHY_WIDTH)}  ${decision.command ?? '-'}`,
          );
          if (opts.verbose) details.push(renderDecisionText(decision));
        } catch (err) {
          reportInputError(err);
        }
      }
      process.stdout.write(`${rows.join('\n')}\n\n${CONDITION_LEGEND}\n`);
      if (details.length > 0) process.stdout.write(`\n${details.join('\n\n')}\n`);
      process.stdout.write(`${files.length} incidents, ${files.length - mismatches} gave their stated verdict${mismatches > 0 ? `, ${mismatches} did not (marked !)` : ''}\n`);
      if (mismatches > 0) process.exitCode = 1;
    });
}
