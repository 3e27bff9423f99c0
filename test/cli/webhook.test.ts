import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import { ensureCertificates } from '../../src/certs/store.js';
import { agentUsers, parseDnsLabel, parseDnsSubdomain } from '../../src/cli/webhook-options.js';
import { fixture, type Review } from '../admission/harness.js';
import { KubeApiServer } from '../support/kube-api-server.js';
import { runCliAsync } from '../support/run-cli.js';

// `rollguard webhook` with the cluster chosen by --kubeconfig/--context, its own namespace from
// --namespace and the agent it trusts from --agent-service-account, as one process would run.

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'rollguard-webhook-cli-'));
const kubeconfig = join(dir, 'kubeconfig');
let api: KubeApiServer;
let child: ChildProcess | undefined;
let ports = { port: 0, healthPort: 0 };
let ca = '';

function writeKubeconfig(liveServer: string): void {
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [{name: dead, cluster: {server: "http://127.0.0.1:1", insecure-skip-tls-verify: true}}, {name: live, cluster: {server: "${liveServer}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t0ken}}]
contexts: [{name: dead, context: {cluster: dead, user: u}}, {name: live, context: {cluster: live, user: u}}]
current-context: dead
`,
  );
}

function startWebhook(args: string[]): Promise<{ port: number; healthPort: number }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'webhook', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child = proc;
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const line = out.split('\n').find((l) => l.includes('"rollguard webhook listening"'));
      if (line !== undefined) resolve(JSON.parse(line) as { port: number; healthPort: number });
    });
    proc.on('exit', (code) => {
      reject(new Error(`webhook exited with ${String(code)}: ${err}`));
    });
  });
}

function mutate(review: Review): Promise<{ patch?: string; warnings?: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: ports.port, servername: 'localhost', ca, path: '/mutate', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => {
        resolve((JSON.parse(text) as { response: { patch?: string; warnings?: string[] } }).response);
      });
    });
    req.on('error', reject);
    req.end(JSON.stringify(review));
  });
}

async function inNamespace(namespace: string): Promise<Review> {
  const review = await fixture('deployment-update-image');
  review.request.namespace = namespace;
  return review;
}

/** A template-neutral update from `username` that writes the agent's rollback record. */
async function agentWrite(username: string): Promise<Review> {
  const review = await fixture('deployment-update-image');
  review.request.userInfo = { username };
  const object = review.request.object as { spec: { template: unknown }; metadata: { annotations: Record<string, string> } };
  object.spec.template = (review.request.oldObject as { spec: { template: unknown } }).spec.template;
  object.metadata.annotations[ANNOTATIONS.rolledBackBy.key] = 'rollguard-agent';
  return review;
}

beforeAll(async () => {
  api = await new KubeApiServer().start();
  writeKubeconfig(api.url);
  const certs = await ensureCertificates({ outDir: dir, names: ['localhost', '127.0.0.1'], days: 7, now: Date.now() });
  ca = certs.caPem;
  ports = await startWebhook([
    '--host', '127.0.0.1', '--port', '0', '--health-port', '0', '--tls-cert', certs.paths.cert, '--tls-key', certs.paths.key,
    '--kubeconfig', kubeconfig, '--context', 'live', '--namespace', 'rollguard-ops', '--agent-service-account', 'rg-agent',
  ]);
});

afterAll(async () => {
  child?.kill('SIGTERM');
  await api.stop();
});

describe('F2 rollguard webhook --kubeconfig --context --namespace', () => {
  it('watches ConfigMaps/Secrets through the chosen context and becomes ready', async () => {
    let status = 0;
    for (let i = 0; i < 200 && status !== 200; i++) {
      status = (await fetch(`http://127.0.0.1:${String(ports.healthPort)}/readyz`)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
    expect(api.requests.map((r) => r.url)).toEqual(expect.arrayContaining([expect.stringMatching(/^\/api\/v1\/configmaps/), expect.stringMatching(/^\/api\/v1\/secrets/)]));
  });

  it('leaves its own namespace and kube-system alone, stamps any other', async () => {
    expect((await mutate(await inNamespace('rollguard-ops'))).patch).toBeUndefined();
    expect((await mutate(await inNamespace('kube-system'))).patch).toBeUndefined();
    expect((await mutate(await inNamespace('shop'))).patch).toBeDefined();
  });
});

describe('R12 rollguard webhook trusts the agent service account in its own namespace', () => {
  it('--agent-service-account in --namespace may write the rollback record; the same name elsewhere may not', async () => {
    const trusted = await mutate(await agentWrite('system:serviceaccount:rollguard-ops:rg-agent'));
    expect(trusted.patch).toBeUndefined();
    expect(trusted.warnings).toBeUndefined();
    const other = await mutate(await agentWrite('system:serviceaccount:rollguard:rg-agent'));
    expect(other.warnings?.join('\n')).toContain(ANNOTATIONS.rolledBackBy.key);
  });

  it('the default is rollguard-agent in the namespace; --trusted-user replaces it', () => {
    expect(agentUsers(undefined, 'rollguard-ops', 'rollguard-agent')).toEqual(['system:serviceaccount:rollguard-ops:rollguard-agent']);
    expect(agentUsers(['alice', 'bob'], 'rollguard-ops', 'rollguard-agent')).toEqual(['alice', 'bob']);
  });
});

describe('F5 rollguard webhook explains a bad cluster choice and exits 2', () => {
  it.each([
    ['a missing --kubeconfig', ['--kubeconfig', join(dir, 'nope')], /^rollguard webhook: kubeconfig file .*nope does not exist\n$/],
    ['an unknown --context', ['--kubeconfig', kubeconfig, '--context', 'prod'], /^rollguard webhook: context "prod" is not in the kubeconfig .*\(contexts: dead, live\)\n$/],
    ['--kubeconfig with --no-kube', ['--kubeconfig', kubeconfig, '--no-kube'], /^rollguard webhook: --kubeconfig and --context choose a cluster; --no-kube runs without one\n$/],
  ])('%s', async (_label, args, message) => {
    const r = await runCliAsync(['webhook', '--port', '0', '--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('rejects a namespace or service account that is not a Kubernetes name', () => {
    expect(parseDnsLabel('rollguard-ops')).toBe('rollguard-ops');
    for (const bad of ['Rollguard', 'a:b', '-x', '', 'a'.repeat(64)]) expect(() => parseDnsLabel(bad)).toThrow(/lowercase letters, digits and "-"/);
    expect(parseDnsSubdomain('rollguard.agent-1')).toBe('rollguard.agent-1');
    for (const bad of ['Agent', 'a:b', 'a..b', '.a', '']) expect(() => parseDnsSubdomain(bad)).toThrow(/lowercase letters, digits, "-" and "."/);
  });
});
