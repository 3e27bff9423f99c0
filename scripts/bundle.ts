import { build } from 'esbuild';

// The container image's program: the CLI bundled with its dependencies into one ES module per
// entry point, so the image carries no node_modules. `tsx scripts/bundle.ts OUT_DIR`.
//
// The replay worker is an entry point of its own and code splitting is on: the worker module
// (src/replay/replay-worker.ts) then lands in a chunk that main imports, and `new Worker(new
// URL(import.meta.url))` inside it starts that chunk, not the whole CLI again.

const outdir = process.argv[2] ?? 'dist/bundle';

const result = await build({
  entryPoints: { rollguard: 'src/cli/main.ts', 'replay-worker': 'src/replay/replay-worker.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  outExtension: { '.js': '.mjs' },
  // Smaller, with readable stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
  // CommonJS dependencies require() Node's built-ins; an ES module has no require of its own.
  banner: { js: "import { createRequire as __rollguardCreateRequire } from 'node:module'; const require = __rollguardCreateRequire(import.meta.url);" },
});

const outputs = Object.entries(result.metafile.outputs);
const total = outputs.reduce((sum, [, o]) => sum + o.bytes, 0);
process.stdout.write(`bundled ${String(outputs.length)} files, ${(total / 1024 / 1024).toFixed(1)} MiB, into ${outdir}\n`);
