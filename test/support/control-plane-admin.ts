import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import type { ControlPlaneFacts } from './control-plane-context.js';

// Admin access to a started control plane, free of vitest: the tests reach it through
// controlPlane(), the benchmarks from the facts of a control plane they launched themselves.

const run = promisify(execFile);

export interface KubectlResult {
  stdout: string;
  stderr: string;
}

export interface ControlPlane extends ControlPlaneFacts {
  /** A fresh admin KubeConfig (its own instance per controlPlane() call). */
  kubeConfig: KubeConfig;
  /** The machine's kubectl with the admin kubeconfig; rejects with its stderr on a non-zero exit. */
  kubectl(args: readonly string[], opts?: { input?: string; timeoutMs?: number }): Promise<KubectlResult>;
}

function kubectlWith(f: ControlPlaneFacts): ControlPlane['kubectl'] {
  return async (args, opts = {}) => {
    const promise = run('kubectl', ['--kubeconfig', f.kubeconfig, ...args], {
      env: { ...process.env, KUBECONFIG: f.kubeconfig, KUBECACHEDIR: f.kubeCacheDir },
      timeout: opts.timeoutMs ?? 60_000,
      maxBuffer: 32 * 1024 * 1024,
    });
    if (opts.input !== undefined) promise.child.stdin?.end(opts.input);
    try {
      return await promise;
    } catch (err) {
      const e = err as Error & { stderr?: string; code?: unknown };
      throw new Error(`kubectl ${args.join(' ')} failed (${String(e.code)}): ${e.stderr?.trim() || e.message}`, { cause: err });
    }
  };
}

export function adminControlPlane(f: ControlPlaneFacts): ControlPlane {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(f.kubeconfig);
  return { ...f, kubeConfig, kubectl: kubectlWith(f) };
}
