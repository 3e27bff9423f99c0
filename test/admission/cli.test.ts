import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from './harness.js';

// End to end through the real CLI: `rollguard certs` makes the certificates, `rollguard webhook`
// serves them (no cluster: --no-kube), and a review over HTTPS gets a stamped answer.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const MAIN = join(ROOT, 'src/cli/main.ts');

let dir: string;
let child: ChildProcess | undefined;
let port = 0;
let ca = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rollguard-cli-'));
  const certs = spawnSync(TSX, [MAIN, 'certs', '--out', dir, '--dns', 'localhost,127.0.0.1', '--days', '7'], { encoding: 'utf8' });
  expect(certs.status, certs.stderr).toBe(0);
  ca = Buffer.from(certs.stdout.trim(), 'base64').toString('utf8');
  const proc = spawn(TSX, [MAIN, 'webhook', '--host', '127.0.0.1', '--port', '0', '--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--no-kube'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child = proc;
  port = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      for (const line of out.split('\n')) {
        if (!line.includes('listening')) continue;
        resolve((JSON.parse(line) as { port: number }).port);
      }
    });
    proc.on('exit', (code) => {
      reject(new Error(`webhook exited with ${String(code)}`));
    });
  });
});

afterAll(async () => {
  child?.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
});

describe('R12 rollguard certs + rollguard webhook', () => {
  it('stamps a Deployment update over HTTPS with the CLI-made certificate; without a cluster the change set is unknown', async () => {
    const review = await fixture('deployment-update-image');
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, servername: 'localhost', ca, path: '/mutate', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString('utf8')));
        res.on('end', () => {
          resolve(text);
        });
      });
      req.on('error', reject);
      req.end(JSON.stringify(review));
    });
    const answer = JSON.parse(body) as { response: { uid: string; patch: string } };
    expect(answer.response.uid).toBe(review.request.uid);
    const ops = JSON.parse(Buffer.from(answer.response.patch, 'base64').toString('utf8')) as { path: string; value?: string }[];
    expect(ops.find((op) => op.path === '/metadata/annotations/rollguard.io~1change-set')?.value).toBe('unknown');
  });

  it('rejects an invalid policy file with the field named', () => {
    const r = spawnSync(TSX, [MAIN, 'webhook', '--port', '0', '--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--no-kube', '--policy', join(ROOT, 'package.json')], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('invalid policy');
  });
});
