import { readFile } from 'node:fs/promises';

export class InputError extends Error {
  constructor(readonly file: string, readonly details: string[]) {
    super(`${file}: ${details.join('; ')}`);
  }
}

/** Reads and parses a JSON file; failures become an InputError naming the file and the problem. */
export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new InputError(file, [`cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InputError(file, [`not valid JSON: ${(err as Error).message}`]);
  }
}

/** Prints an InputError as the CLI does for every bad input: each problem on its own line, exit 2. */
export function reportInputError(err: unknown): never {
  if (err instanceof InputError) {
    process.stderr.write(`rollguard: invalid input in ${err.file}:\n${err.details.map((d) => `  - ${d}`).join('\n')}\n`);
    process.exit(2);
  }
  throw err;
}
