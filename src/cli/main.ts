#!/usr/bin/env node
import { buildProgram } from './program.js';

const program = buildProgram().exitOverride((err) => {
  process.exit(err.exitCode === 0 ? 0 : 2);
});

await program.parseAsync(process.argv);
