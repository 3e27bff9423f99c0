import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stampReport } from '../../src/render/stamps-text.js';
import { deployment } from '../support/builders.js';
import { runCli, runCliAsync } from '../support/run-cli.js';

const stamped = deployment({
  annotations: {
    'rollguard.io/template-changed-at': '2026-03-02T10:00:00Z',
    'rollguard.io/template-hash': 'sha256:4f2a',
    'rollguard.io/change-set': 'mixed',
    'rollguard.io/eligibility': 'human-required',
    'rollguard.io/eligibility-reasons': JSON.stringify(['ConfigMap checkout-config was changed in place at 2026-03-02T09:58:40Z']),
    'rollguard.io/blackout-until': '2026-03-02T10:15:00Z',
    'rollguard.io/blackuot-until': 'typo',
  },
});

describe('R12 inspect reads every stamp', () => {
  it('explains each key, the eligibility reasons and the blackout', () => {
    const r = stampReport(stamped, Date.parse('2026-03-02T10:10:00Z'));
    expect(r.eligibility).toBe('human-required');
    expect(r.reasons).toEqual(['ConfigMap checkout-config was changed in place at 2026-03-02T09:58:40Z']);
    expect(r.blackout).toEqual({ until: '2026-03-02T10:15:00Z', active: true, remaining: '5m' });
    expect(r.verdictHint).toMatch(/in blackout for 5m more/);
    expect(r.stamps.find((s) => s.key === 'rollguard.io/blackuot-until')?.description).toBeUndefined();
    expect(r.missing).toEqual([]);
  });

  it('after the blackout it reports the eligibility', () => {
    const r = stampReport(stamped, Date.parse('2026-03-02T10:20:00Z'));
    expect(r.blackout?.active).toBe(false);
    expect(r.verdictHint).toMatch(/a human is required/);
  });

  it('F1: an object without stamps is reported as unknown, never eligible', () => {
    const r = stampReport(deployment(), 0);
    expect(r.missing).toContain('rollguard.io/template-changed-at');
    expect(r.verdictHint).toMatch(/not stamped by rollguard .* never lead to auto \(F1\)/);
  });
});

describe('F5 rollguard inspect', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rollguard-inspect-'));
  let server: Server;
  let seen: IncomingMessage[] = [];
  let kubeconfig = '';

  beforeAll(async () => {
    // A throwaway serving certificate for 127.0.0.1, so the client verifies TLS as it would in a cluster.
    const cert = join(dir, 'tls.crt');
    const key = join(dir, 'tls.key');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test-apiserver', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
    server = createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
      seen.push(req);
      if (req.url === '/apis/apps/v1/namespaces/shop/deployments/checkout') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: stamped.metadata }));
        return;
      }
      if (req.url === '/api/v1/namespaces/shop/secrets/forbidden') {
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'secrets "forbidden" is forbidden: User "alice" cannot get resource "secrets"', reason: 'Forbidden', code: 403 }));
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: "https://127.0.0.1:${port}", certificate-authority-data: ${readFileSync(cert).toString('base64')}}}]
users: [{name: alice, user: {token: t0ken-alice}}]
contexts: [{name: test, context: {cluster: test, user: alice}}]
current-context: test
`,
    );
  });

  afterAll(() => {
    server.close();
  });

  it('reads a Deployment from the cluster as metadata only, with the kubeconfig credentials', async () => {
    seen = [];
    const r = await runCliAsync(['inspect', 'deploy/checkout', '-n', 'shop', '--kubeconfig', kubeconfig]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Deployment shop\/checkout: /);
    expect(r.stdout).toMatch(/rollguard.io\/eligibility +human-required/);
    expect(seen[0]?.headers.accept).toMatch(/as=PartialObjectMetadata/);
    expect(seen[0]?.headers.authorization).toBe('Bearer t0ken-alice');
  });

  it('says what was not found or not allowed, with exit code 1', async () => {
    const missing = await runCliAsync(['inspect', 'deployment/nope', '-n', 'shop', '--kubeconfig', kubeconfig]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe('rollguard inspect: Deployment shop/nope not found\n');
    const forbidden = await runCliAsync(['inspect', 'secret/forbidden', '-n', 'shop', '--kubeconfig', kubeconfig]);
    expect(forbidden.status).toBe(1);
    expect(forbidden.stderr).toMatch(/not allowed to read Secret shop\/forbidden \(403\): .*cannot get resource "secrets"/);
  });

  it('names an unknown --context and the contexts there are, with exit code 1', async () => {
    const r = await runCliAsync(['inspect', 'deploy/checkout', '-n', 'shop', '--kubeconfig', kubeconfig, '--context', 'prod']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`rollguard inspect: context "prod" is not in the kubeconfig ${kubeconfig} (contexts: test)\n`);
  });

  it('reads kubectl output from a file or stdin, and prints JSON', () => {
    const file = join(dir, 'list.json');
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [stamped, deployment({ name: 'cart' })] }));
    const fromFile = runCli(['inspect', file]);
    expect(fromFile.status).toBe(0);
    expect(fromFile.stdout).toMatch(/Deployment shop\/checkout/);
    expect(fromFile.stdout).toMatch(/Deployment shop\/cart: not stamped by rollguard/);
    const fromStdin = runCli(['inspect', '-', '-o', 'json'], { input: JSON.stringify(stamped) });
    expect(fromStdin.status).toBe(0);
    expect((JSON.parse(fromStdin.stdout) as { eligibility: string }).eligibility).toBe('human-required');
  });

  it('rejects input that is not an object, with exit code 2', () => {
    const r = runCli(['inspect', '-'], { input: '[1, 2' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/standard input:\n {2}- not valid YAML or JSON/);
  });

  it("without a target: says what to give, then inspect's own usage (not the top-level help), exit 2", () => {
    const r = runCli(['inspect']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^rollguard inspect: give KIND\/NAME, a file, or - \(or --keys\)\n\nUsage: rollguard inspect \[options\] \[target\]/);
    expect(r.stderr).not.toMatch(/Commands:/);
  });
});
