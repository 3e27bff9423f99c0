#!/usr/bin/env node
import { rollguardProgram } from './program.js';

await rollguardProgram().parseAsync(process.argv);
