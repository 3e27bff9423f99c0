#!/usr/bin/env node
// The `rollguard` command. Checks the Node.js version before anything else loads (under an older
// Node the dependencies fail deep inside with a stack trace), then runs the CLI: from source in a
// checkout (so `npm ci && npx rollguard` works without a build), else the compiled dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const NEEDED_MAJOR = 22;
const major = Number(process.versions.node.split('.')[0]);
if (!(major >= NEEDED_MAJOR)) {
  process.stderr.write(`rollguard: needs Node.js ${NEEDED_MAJOR} or later, this is ${process.versions.node} (${process.execPath}); in a checkout, 'npx rollguard' and the npm scripts run the Node 24 that npm ci installs\n`);
  process.exit(1);
}

const source = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const built = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));

async function entry() {
  if (existsSync(source)) {
    try {
      const { register } = await import('tsx/esm/api');
      register();
      return source;
    } catch {
      // no tsx (an install without devDependencies): the build is what runs
    }
  }
  if (existsSync(built)) return built;
  process.stderr.write(`rollguard: neither a build (${built}: run npm run build) nor the source with tsx (run npm ci)\n`);
  return process.exit(1);
}

await import(pathToFileURL(await entry()).href);
