import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { installBinaries, locateControlPlane, REPO_ROOT } from '../support/control-plane-launch.js';

// helm 3.5.4 from ../shared/k8s (the binary the control plane's install.sh unpacks), run against
// charts/rollguard with its own HELM_* directories, so nothing of the machine's helm setup leaks in.

const run = promisify(execFile);

export const CHART_DIR = join(REPO_ROOT, 'charts', 'rollguard');

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export class HelmError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

export interface Helm {
  readonly binary: string;
  run(args: readonly string[], opts?: { timeoutMs?: number }): Promise<{ stdout: string; stderr: string }>;
  /** `helm template` of the chart with these values (as a values file), parsed. */
  template(values: unknown, opts?: { release?: string; namespace?: string; extraArgs?: readonly string[] }): Promise<KubeObject[]>;
  /** Writes values to a file in helm's own temp dir and returns its path. */
  valuesFile(values: unknown): Promise<string>;
  cleanup(): Promise<void>;
}

export function parseManifests(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null && typeof o === 'object');
}

/** The unpacked helm of ../shared/k8s without starting a control plane (install.sh is idempotent and flock'ed). */
export async function unpackedHelmBinary(): Promise<string> {
  const located = locateControlPlane();
  if (!located.ok) throw new Error(`no helm: ${located.reason}`);
  if (located.prebuiltBin !== undefined && existsSync(join(located.prebuiltBin, 'helm'))) return join(located.prebuiltBin, 'helm');
  const dir = await installBinaries(located.installScript, join(tmpdir(), 'rollguard-k8s-bin'));
  return join(dir, 'helm');
}

let valuesCounter = 0;

export async function createHelm(binary: string, kubeconfig?: string): Promise<Helm> {
  if (!existsSync(binary)) throw new Error(`${binary} does not exist`);
  const home = await mkdtemp(join(tmpdir(), 'rollguard-helm-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
    ...(kubeconfig === undefined ? {} : { KUBECONFIG: kubeconfig }),
  };
  const helm: Helm = {
    binary,
    async run(args, opts = {}) {
      try {
        return await run(binary, [...args], { env, cwd: REPO_ROOT, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 32 * 1024 * 1024 });
      } catch (err) {
        const e = err as Error & { stderr?: string; code?: unknown };
        throw new HelmError(`helm ${args.join(' ')} failed (${String(e.code)}): ${e.stderr?.trim() ?? e.message}`, e.stderr ?? '');
      }
    },
    async valuesFile(values) {
      const path = join(home, `values-${String(++valuesCounter)}.json`);
      await writeFile(path, JSON.stringify(values));
      return path;
    },
    async template(values, opts = {}) {
      const file = await helm.valuesFile(values);
      const { stdout } = await helm.run(['template', opts.release ?? 'rollguard', CHART_DIR, '--namespace', opts.namespace ?? 'rollguard', '-f', file, ...(opts.extraArgs ?? [])]);
      return parseManifests(stdout);
    },
    cleanup: () => rm(home, { recursive: true, force: true }),
  };
  return helm;
}

export function findObject(objects: readonly KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name === undefined ? '' : ` ${name}`}, found ${String(found.length)}: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found[0] as KubeObject;
}
