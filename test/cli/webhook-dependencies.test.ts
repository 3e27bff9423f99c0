import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/process.js';
import { waitFor } from '../support/wait.js';

// F1 failures are loud in the webhook too: with its apiserver away (a closed local port) it says so
// once in its log, on /readyz (which keeps its own verdict) and in its metrics, within a probe round.

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src/cli/main.ts');
const dir = mkdtempSync(join(tmpdir(), 'rollguard-webhook-deps-'));
let child: ChildProcess | undefined;

afterAll(() => {
  child?.kill('SIGKILL');
});

describe('F1 the webhook probes the apiserver its stamp cache watches', () => {
  it('F1 apiserver unreachable: one error log line, /readyz names it, dependency_up 0 and failures counted', async () => {
    const apiPort = await freePort();
    writeFileSync(join(dir, 'kubeconfig'), `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:${String(apiPort)}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n`);
    const certs = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'certs', '--out', dir, '--dns', 'localhost', '--days', '7'], { cwd: ROOT, encoding: 'utf8' });
    expect(certs.status, certs.stderr).toBe(0);
    const healthPort = await freePort();
    const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, 'webhook', '--host', '127.0.0.1', '--port', '0', '--health-port', String(healthPort), '--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--kubeconfig', join(dir, 'kubeconfig')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const readyz = await waitFor('/readyz naming the apiserver', async () => {
      const res = await fetch(`http://127.0.0.1:${String(healthPort)}/readyz`).catch(() => undefined);
      const text = res === undefined ? '' : await res.text();
      return text.includes('the Kubernetes API failing since') ? { status: res?.status, text } : undefined;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    // Not ready for its own reason (the cache has not synced), and the reason says why it cannot.
    expect(readyz.status).toBe(503);
    expect(readyz.text).toMatch(/stamp cache has not synced yet; the Kubernetes API failing since \S+: .*ECONNREFUSED/);
    const metrics = await (await fetch(`http://127.0.0.1:${String(healthPort)}/metrics`)).text();
    expect(metrics).toMatch(/^rollguard_webhook_dependency_up\{dependency="apiserver"\} 0$/m);
    expect(metrics).toMatch(/^rollguard_webhook_dependency_failures_total\{dependency="apiserver"\} [1-9]/m);
    const failing = out.split('\n').filter((l) => l.includes('"dependency":"apiserver"') && l.includes('is failing'));
    expect(failing).toHaveLength(1);
  }, 60_000);
});
