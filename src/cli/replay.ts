import { Command, Option } from 'commander';
import type { ReplayOptions } from '../replay/replay-run.js';
import { replayInWorker } from '../replay/replay-worker.js';

// `rollguard replay`: what rollguard would have decided for every deploy in a Kubernetes audit log,
// given the metrics of the time (src/replay/replay-run.ts), run in a worker thread that bounds its
// memory (src/replay/replay-worker.ts). Prints the output, or why the input cannot be replayed
// (exit 2).

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description("what rollguard would have decided for every deploy in a Kubernetes audit log, from the metrics of the time")
    .requiredOption('--audit <files...>', 'kube-apiserver audit log files (audit.k8s.io/v1, plain or .gz; rotated files in any order)')
    .requiredOption('--metrics <file|url>', 'an OpenMetrics file with timestamps, or a Prometheus URL (token in PROMETHEUS_BEARER_TOKEN)')
    .option('--policy <file>', 'policy YAML/JSON: "default" and per-"namespaces" overrides')
    .option('--audit-policy <file>', "the cluster's audit policy (the audit.k8s.io/v1 Policy given to kube-apiserver --audit-policy-file): what the log leaves out is then known exactly, not guessed")
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--report <dir>', 'write one HTML page per deploy that had a regression, and index.html linking them all')
    .option('--from <time>', 'only deploys that started at or after this time (RFC 3339)')
    .option('--to <time>', 'only deploys that started at or before this time (RFC 3339)')
    .action(async (opts: ReplayOptions) => {
      const outcome = await replayInWorker(opts, process.stderr.isTTY);
      if (outcome.type === 'usage') {
        process.stderr.write(`rollguard replay: ${outcome.message}\n`);
        process.exit(2);
      }
      process.stdout.write(outcome.text);
    });
}
