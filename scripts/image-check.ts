import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { ensureCertificates } from '../src/certs/store.js';

// `npm run image:check`: builds the Dockerfile with podman as ../shared/oci/README.md describes
// (a local node:24-bookworm-slim, no registry), then runs the image the way the chart does and
// checks it: --help, examples, replay (its worker thread), the webhook answering an AdmissionReview
// over TLS from inside the container, uid 10001, a read-only root filesystem, and its size over
// the node base (goal: at most 40 MB). Exits 1 on the first failed check. Loopback only.

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const SHARED_OCI = resolve(process.env.ROLLGUARD_OCI_SHARED ?? join(ROOT, '..', 'shared', 'oci'));
const BASE_IMAGE = 'docker.io/library/node:24-bookworm-slim';
const MAX_ADDED_MB = 40;

const image = `localhost/rollguard:check-${randomBytes(3).toString('hex')}`;
let env: NodeJS.ProcessEnv = process.env;

function step(text: string): void {
  process.stdout.write(`image-check: ${text}\n`);
}

async function podman(args: readonly string[], opts: { timeoutMs?: number; allowFailure?: boolean } = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await run('podman', [...args], { env, cwd: ROOT, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 });
    return { ...r, code: 0 };
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string; code?: number };
    if (opts.allowFailure === true && typeof e.code === 'number') return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.code };
    throw new Error(`podman ${args.join(' ')} failed: ${e.stderr?.trim() ?? e.message}`, { cause: err });
  }
}

function check(ok: boolean, what: string, detail = ''): void {
  if (!ok) throw new Error(`${what}${detail === '' ? '' : `\n${detail}`}`);
  step(`ok: ${what}`);
}

function post(url: string, ca: string, body: string, method = 'POST'): Promise<{ status: number; body: string }> {
  return new Promise((resolvePost, reject) => {
    const req = request(url, { method, ca, headers: { 'content-type': 'application/json' }, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        resolvePost({ status: res.statusCode ?? 0, body: text });
      });
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end(body);
  });
}

async function webhookInContainer(dir: string): Promise<void> {
  const certs = await ensureCertificates({ outDir: join(dir, 'certs'), names: ['127.0.0.1', 'localhost'], days: 1, now: Date.now() });
  // The container's uid 10001 reads a copy; the originals stay 0600.
  const mounted = join(dir, 'mounted');
  await run('mkdir', ['-p', mounted]);
  for (const f of ['tls.crt', 'tls.key']) {
    await copyFile(join(dir, 'certs', f), join(mounted, f));
    await chmod(join(mounted, f), 0o644);
  }
  // A policy file: read with yaml, which the bundle loads on demand.
  await writeFile(join(mounted, 'policy.yaml'), 'default:\n  mode: suggest\n', { mode: 0o644 });
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const name = `rollguard-check-${randomBytes(3).toString('hex')}`;
  await podman(['run', '-d', '--rm', '--name', name, '--read-only', '-p', `127.0.0.1:${String(port)}:8443`, '-v', `${mounted}:/certs:ro`, image, 'webhook', '--no-kube', '--tls-cert', '/certs/tls.crt', '--tls-key', '/certs/tls.key', '--health-port', '8081', '--policy', '/certs/policy.yaml']);
  try {
    const review = await readFile(join(ROOT, 'test', 'fixtures', 'admission', 'deployment-create.json'), 'utf8');
    const uid = (JSON.parse(review) as { request: { uid: string } }).request.uid;
    let answer: { status: number; body: string } | undefined;
    let lastError = '';
    for (let i = 0; i < 100 && answer === undefined; i++) {
      try {
        answer = await post(`https://127.0.0.1:${String(port)}/mutate`, certs.caPem, review);
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
        await sleep(200);
      }
    }
    const logs = (await podman(['logs', name], { allowFailure: true })).stdout;
    check(answer !== undefined, 'the webhook in the container answers over TLS', `${lastError}\n${logs}`);
    const parsed = JSON.parse(answer?.body ?? '{}') as { response?: { uid?: string; allowed?: boolean; patchType?: string } };
    check(answer?.status === 200 && parsed.response?.uid === uid && parsed.response.allowed === true && parsed.response.patchType === 'JSONPatch', 'it admits a Deployment CREATE with a stamping JSON patch, uid echoed', answer?.body ?? '');
    // Routed by express, which the bundle loads with the first request the fast path and the probes leave.
    const unknown = await post(`https://127.0.0.1:${String(port)}/no-such-path`, certs.caPem, '', 'GET');
    check(unknown.status === 404 && unknown.body.includes('no route GET /no-such-path'), 'an unknown path gets the 404 Status from the lazily loaded routes', unknown.body);
  } finally {
    await podman(['rm', '-f', name], { allowFailure: true });
  }
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const { stdout: base } = await run(join(SHARED_OCI, 'make-base.sh'), [], { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 });
  const conf = base.trim().split('\n').at(-1) ?? '';
  env = { ...process.env, CONTAINERS_CONF: conf };
  step(`base image ready (CONTAINERS_CONF=${conf})`);
  const b0 = Date.now();
  await podman(['build', '--pull=never', '-q', '-t', image, '.'], { timeoutMs: 600_000 });
  step(`built ${image} in ${((Date.now() - b0) / 1000).toFixed(0)} s`);
  const dir = await mkdtemp(join(tmpdir(), 'rollguard-image-check-'));
  try {
    const help = await podman(['run', '--rm', '--read-only', image, '--help']);
    check(help.stdout.includes('Usage: rollguard'), 'rollguard --help', help.stdout);
    const examples = await podman(['run', '--rm', '--read-only', image, 'examples']);
    check(/(\d+) incidents, \1 gave their stated verdict/.test(examples.stdout), 'rollguard examples: every incident gives its stated verdict', examples.stdout.slice(-500));
    const replay = await podman(['run', '--rm', '--read-only', image, 'replay', '--audit', 'examples/replay/audit.log', '--metrics', 'examples/replay/metrics.om']);
    check(/\d+ deploys: /.test(replay.stdout), 'rollguard replay of the example audit log (the worker thread starts from the bundle)', replay.stdout.slice(-500));
    const id = await podman(['run', '--rm', '--entrypoint', 'id', image]);
    check(/^uid=10001\b.* gid=10001\b/.test(id.stdout), 'runs as uid 10001', id.stdout);
    const user = await podman(['image', 'inspect', image, '--format', '{{.Config.User}}']);
    check(user.stdout.trim() === '10001:10001', 'the image declares USER 10001:10001', user.stdout);
    const writeRoot = await podman(['run', '--rm', '--read-only', '--entrypoint', 'sh', image, '-c', 'touch /app/x || touch /x'], { allowFailure: true });
    check(writeRoot.code !== 0 && /Read-only file system/.test(writeRoot.stderr), 'with --read-only (readOnlyRootFilesystem) nothing on the root filesystem can be written', writeRoot.stderr);
    const writeApp = await podman(['run', '--rm', '--entrypoint', 'sh', image, '-c', 'touch /app/x'], { allowFailure: true });
    check(writeApp.code !== 0, 'even without --read-only, uid 10001 cannot change /app', writeApp.stderr);
    const modules = await podman(['run', '--rm', '--entrypoint', 'sh', image, '-c', 'test ! -e /app/node_modules'], { allowFailure: true });
    check(modules.code === 0, 'no node_modules in the image (one bundle per entry point)');
    await webhookInContainer(dir);
    const size = Number((await podman(['image', 'inspect', image, '--format', '{{.Size}}'])).stdout.trim());
    const baseSize = Number((await podman(['image', 'inspect', BASE_IMAGE, '--format', '{{.Size}}'])).stdout.trim());
    const addedMb = (size - baseSize) / 1e6;
    step(`size: ${(size / 1e6).toFixed(1)} MB, of which ${addedMb.toFixed(1)} MB on top of ${BASE_IMAGE} (${(baseSize / 1e6).toFixed(1)} MB)`);
    check(addedMb <= MAX_ADDED_MB, `at most ${String(MAX_ADDED_MB)} MB on top of the node base`);
    step(`all checks passed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    await podman(['rmi', '-f', image], { allowFailure: true });
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`image-check: FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
