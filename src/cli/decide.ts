import { Command, Option } from 'commander';
import { decide } from '../core/decide.js';
import { incidentToInput } from '../incident/to-decision-input.js';
import { renderDecisionText } from '../render/decision-text.js';
import { InputError, readJsonFile, reportInputError } from './read-json.js';

export async function decideFile(file: string): Promise<{ decision: ReturnType<typeof decide>; expect: 'auto' | 'suggest' | 'none' | undefined; description: string | undefined }> {
  const result = incidentToInput(await readJsonFile(file));
  if (!result.ok) throw new InputError(file, result.errors);
  return { decision: decide(result.input), expect: result.expect, description: result.description };
}

export function registerDecide(program: Command): void {
  program
    .command('decide')
    .description('decide one incident described in a JSON file (no cluster needed)')
    .argument('<file>', 'incident JSON (format: docs/reference.md#incident-file-format)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (file: string, opts: { output: 'text' | 'json' }) => {
      try {
        const { decision } = await decideFile(file);
        process.stdout.write(opts.output === 'json' ? `${JSON.stringify(decision, null, 2)}\n` : `${renderDecisionText(decision)}\n`);
      } catch (err) {
        reportInputError(err);
      }
    });
}
