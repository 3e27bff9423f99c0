import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import type { ControlPlaneContext } from './control-plane-context.js';
import { exitedProcesses, launchControlPlane, locateControlPlane } from './control-plane-launch.js';
import type { LaunchedControlPlane } from './control-plane-launch.js';

// vitest globalSetup: one Kubernetes control plane per test run, started only when a test asks.
// This (main) process owns it: a tiny loopback HTTP endpoint starts it on the first request and
// answers every request, from any fork worker, with the same facts; teardown stops it. A single
// owner needs no lock files, and the owner is the process whose teardown always runs.

export function ciRequiresControlPlane(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runDir = await mkdtemp(join(tmpdir(), 'rollguard-test-run-'));
  const located = locateControlPlane();
  const required = ciRequiresControlPlane();
  if (!located.ok) {
    project.provide('rollguardControlPlane', { unavailable: located.reason, required, runDir } satisfies ControlPlaneContext);
    return () => rm(runDir, { recursive: true, force: true });
  }
  let launched: Promise<LaunchedControlPlane> | undefined;
  const launch = () =>
    (launched ??= launchControlPlane(located).then((cp) => {
      const { startMs, installMs, apiserverUrl, workDir } = cp.facts;
      process.stdout.write(`control-plane: up in ${(startMs / 1000).toFixed(1)} s (install.sh ${(installMs / 1000).toFixed(1)} s) at ${apiserverUrl} (${workDir})\n`);
      return cp;
    }));
  const server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/control-plane') {
      res.writeHead(404).end();
      return;
    }
    // A control plane that died mid-run is reported as such, not handed out as if it were up.
    launch()
      .then(async (cp) => {
        const gone = await exitedProcesses(cp.facts);
        if (gone.length > 0) throw new Error(`the run's Kubernetes control plane broke down: ${gone.join('\n')}`);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(cp.facts));
      })
      .catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
      });
  });
  // Waiting workers hold their request open for the whole start (seconds, or minutes on a busy machine).
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  project.provide('rollguardControlPlane', { brokerUrl: `http://127.0.0.1:${port}/control-plane`, required, runDir } satisfies ControlPlaneContext);

  return async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => {
      resolve();
    }));
    try {
      if (launched !== undefined) {
        const cp = await launched.catch(() => undefined);
        if (cp !== undefined) {
          const ms = await cp.stop();
          process.stdout.write(`control-plane: stopped in ${(ms / 1000).toFixed(1)} s\n`);
        }
      }
    } finally {
      await rm(runDir, { recursive: true, force: true });
    }
  };
}
