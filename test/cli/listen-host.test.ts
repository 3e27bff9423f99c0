import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listenHost } from '../../src/cli/listen-host.js';

// `--host` of `rollguard agent` and `rollguard webhook`: a local run listens on loopback only; in a
// Pod (the kubelet always sets KUBERNETES_SERVICE_HOST) every interface, where the kubelet's probes,
// the Service and Prometheus reach the pod IP; the flag wins over both.

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src/cli/main.ts');
const dir = mkdtempSync(join(tmpdir(), 'rollguard-host-'));
const kubeconfig = join(dir, 'kubeconfig');
writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: dead, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: dead, context: {cluster: dead, user: u}}]\ncurrent-context: dead\n');
const children: ReturnType<typeof spawn>[] = [];

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** Starts a verb and resolves with the fields of its first log line containing `message`. */
function startedLine(args: string[], message: string, env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  const base = { ...process.env };
  delete base.KUBERNETES_SERVICE_HOST;
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const line = out.split('\n').find((l) => l.includes(`"msg":"${message}"`));
      if (line !== undefined) resolve(JSON.parse(line) as Record<string, unknown>);
    });
    child.on('exit', (code) => {
      reject(new Error(`exited with ${String(code)}: ${err}`));
    });
  });
}

const agentArgs = ['agent', '--kubeconfig', kubeconfig, '--prometheus', 'http://127.0.0.1:1', '--namespace', 'rollguard', '--port', '0', '--log-level', 'warn'];

describe('F2 where the agent and the webhook listen', () => {
  it('F2 listenHost: the flag when given; else every interface (undefined) in a Pod and loopback elsewhere', () => {
    expect(listenHost(undefined, {})).toBe('127.0.0.1');
    expect(listenHost(undefined, { KUBERNETES_SERVICE_HOST: '' })).toBe('127.0.0.1');
    expect(listenHost(undefined, { KUBERNETES_SERVICE_HOST: '10.96.0.1' })).toBeUndefined();
    expect(listenHost('0.0.0.0', {})).toBe('0.0.0.0');
    expect(listenHost('127.0.0.1', { KUBERNETES_SERVICE_HOST: '10.96.0.1' })).toBe('127.0.0.1');
    // The image runs in a network namespace of its own: a published port must reach it.
    expect(listenHost(undefined, { ROLLGUARD_IN_CONTAINER: 'true' })).toBeUndefined();
    expect(listenHost(undefined, { ROLLGUARD_IN_CONTAINER: 'false' })).toBe('127.0.0.1');
    expect(listenHost('127.0.0.1', { ROLLGUARD_IN_CONTAINER: 'true' })).toBe('127.0.0.1');
  });

  it('F2 rollguard agent: loopback by default outside a Pod, answering there, and advertising that address', async () => {
    const line = await startedLine([...agentArgs, '--log-level', 'info'], 'agent starting', {});
    expect(line.host).toBe('127.0.0.1');
    expect(line.advertised).toBe(`http://127.0.0.1:${String(line.port)}`);
    const res = await fetch(`http://127.0.0.1:${String(line.port)}/healthz`);
    expect(res.status).toBe(200);
  });

  it('F2 rollguard agent: every interface in a Pod, advertising the pod IP; --host overrides it', async () => {
    const inPod = await startedLine([...agentArgs, '--log-level', 'info'], 'agent starting', { KUBERNETES_SERVICE_HOST: '10.96.0.1', POD_IP: '10.1.2.3' });
    expect(inPod.host).toBe('every interface');
    expect(inPod.advertised).toBe(`http://10.1.2.3:${String(inPod.port)}`);
    const pinned = await startedLine([...agentArgs, '--log-level', 'info', '--host', '127.0.0.2'], 'agent starting', { KUBERNETES_SERVICE_HOST: '10.96.0.1', POD_IP: '10.1.2.3' });
    expect(pinned.host).toBe('127.0.0.2');
    expect(pinned.advertised).toBe(`http://127.0.0.2:${String(pinned.port)}`);
  });

  it('F2 rollguard webhook: loopback by default outside a Pod, every interface in one', async () => {
    const certs = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'certs', '--out', dir, '--dns', 'localhost', '--days', '7'], { cwd: ROOT, encoding: 'utf8' });
    expect(certs.status, certs.stderr).toBe(0);
    const args = ['webhook', '--port', '0', '--health-port', '0', '--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--no-kube'];
    const local = await startedLine(args, 'rollguard webhook listening', {});
    expect(local.host).toBe('127.0.0.1');
    expect((await fetch(`http://127.0.0.1:${String(local.healthPort)}/healthz`)).status).toBe(200);
    const inPod = await startedLine(args, 'rollguard webhook listening', { KUBERNETES_SERVICE_HOST: '10.96.0.1' });
    expect(inPod.host).toBe('every interface');
  });
});
