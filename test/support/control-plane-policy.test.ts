import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ciRequiresControlPlane } from './control-plane-setup.js';
import { describeWithControlPlane } from './control-plane.js';
import { locateControlPlane } from './control-plane-launch.js';
import { waitFor } from './wait.js';

// The control plane's run-level policy and lifecycle, through real child vitest runs of the
// fixture files in fixtures/control-plane-policy (two files, so two fork workers): skipped with
// one line without binaries, failing with CI=true, one instance shared by both workers and
// stopped after a failing test, and stopped by the watchdog when vitest itself is killed.

const ROOT = join(import.meta.dirname, '..', '..');
const CONFIG = 'test/support/fixtures/control-plane-policy/vitest.config.ts';
// A child vitest that starts its own control plane: well past the default test timeout on a loaded machine.
const FIXTURE_RUN_TIMEOUT_MS = 180_000;
const MISSING = join(tmpdir(), 'rollguard-no-such-dir', 'shared', 'k8s');

interface FixtureRun {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function runFixtures(env: Record<string, string | undefined>): FixtureRun {
  const childEnv: NodeJS.ProcessEnv = { NO_COLOR: '1', FORCE_COLOR: '0' };
  for (const [k, v] of Object.entries({ ...process.env, ...env })) {
    // The parent's worker variables would make the child think it is a worker itself.
    if (v !== undefined && !k.startsWith('VITEST')) childEnv[k] = v;
  }
  const child = spawn(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--config', CONFIG], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  // 'exit', not 'close': the fork workers may hold the pipes after a killed vitest.
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    resolve(code);
  }));
  return { child, output: () => out, exited };
}

async function finished(run: FixtureRun, timeoutMs = FIXTURE_RUN_TIMEOUT_MS - 10_000): Promise<number | null> {
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  try {
    const code = await run.exited;
    if (run.child.signalCode === 'SIGKILL') throw new Error(`the fixture run did not finish within ${String(timeoutMs)} ms:\n${run.output()}`);
    return code;
  } finally {
    clearTimeout(timer);
  }
}

/** Gone, or a zombie nobody has reaped yet. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${String(pid)}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const lines = (text: string, re: RegExp) => text.split('\n').filter((l) => re.test(l));

describe('locating the control plane', () => {
  // <fake>/repo's sibling shared/k8s, unpacked binaries without etcd, and a PATH with etcd and xz.
  let fake: string;
  const paths = () => ({ shared: join(fake, 'shared', 'k8s'), unpacked: join(fake, 'unpacked'), PATH: join(fake, 'path') });
  beforeAll(async () => {
    fake = await mkdtemp(join(tmpdir(), 'rollguard-fake-k8s-'));
    const { shared, unpacked, PATH } = paths();
    for (const d of [join(shared, 'bin'), unpacked, PATH]) await mkdir(d, { recursive: true });
    const executables = [join(shared, 'start-control-plane.sh'), join(shared, 'install.sh'), join(unpacked, 'kube-apiserver'), join(unpacked, 'kube-controller-manager'), join(PATH, 'etcd'), join(PATH, 'xz')];
    for (const f of executables) await writeFile(f, '', { mode: 0o755 });
    for (const f of ['kube-apiserver.xz', 'kube-controller-manager.xz']) await writeFile(join(shared, 'bin', f), '');
  });
  afterAll(() => rm(fake, { recursive: true, force: true }));

  it('needs the start script, and either ROLLGUARD_K8S_BIN with the binaries or the packed ones and xz', () => {
    const { shared, unpacked, PATH } = paths();
    expect(locateControlPlane({ PATH, ROLLGUARD_K8S_SHARED: MISSING })).toEqual({ ok: false, reason: `no executable ${join(MISSING, 'start-control-plane.sh')}` });
    expect(locateControlPlane({ PATH }, join(fake, 'repo'))).toEqual({
      ok: true,
      sharedDir: shared,
      startScript: join(shared, 'start-control-plane.sh'),
      installScript: join(shared, 'install.sh'),
      prebuiltBin: undefined,
    });
    expect(locateControlPlane({ PATH: '/nonexistent', ROLLGUARD_K8S_SHARED: shared })).toMatchObject({ ok: false, reason: expect.stringMatching(/^xz is not installed/) as unknown });
    expect(locateControlPlane({ PATH, ROLLGUARD_K8S_SHARED: shared, ROLLGUARD_K8S_BIN: MISSING })).toEqual({
      ok: false,
      reason: `ROLLGUARD_K8S_BIN=${MISSING} lacks kube-apiserver, kube-controller-manager`,
    });
    expect(locateControlPlane({ PATH: '/nonexistent', ROLLGUARD_K8S_SHARED: shared, ROLLGUARD_K8S_BIN: unpacked })).toEqual({
      ok: false,
      reason: `no etcd in ROLLGUARD_K8S_BIN=${unpacked} nor on PATH`,
    });
    expect(locateControlPlane({ PATH, ROLLGUARD_K8S_SHARED: shared, ROLLGUARD_K8S_BIN: unpacked })).toMatchObject({ ok: true, prebuiltBin: unpacked });
  });

  it('reads CI the way CI systems set it', () => {
    expect([undefined, '', 'false', '0', 'true', '1'].map((CI) => ciRequiresControlPlane({ CI }))).toEqual([false, false, false, false, true, true]);
  });
});

describe('without binaries', () => {
  const missing = { ROLLGUARD_K8S_SHARED: MISSING, ROLLGUARD_K8S_BIN: undefined };

  it('skips the tests that need them, saying once per run how to enable them', async () => {
    const run = runFixtures({ ...missing, CI: undefined });
    expect(await finished(run), run.output()).toBe(0);
    const notice = lines(run.output(), /^control-plane: /);
    expect(notice, run.output()).toHaveLength(1);
    expect(notice[0]).toContain(`tests needing Kubernetes skipped (no executable ${join(MISSING, 'start-control-plane.sh')})`);
    expect(notice[0]).toContain('ROLLGUARD_K8S_BIN=DIR');
    expect(notice[0]).toContain(join(ROOT, '..', 'shared', 'k8s'));
    expect(run.output()).toMatch(/Tests\s+2 skipped \(2\)/);
  }, FIXTURE_RUN_TIMEOUT_MS);

  it('fails them with CI=true', async () => {
    const run = runFixtures({ ...missing, CI: 'true' });
    expect(await finished(run), run.output()).toBe(1);
    expect(run.output()).toContain(`CI=true but there is no Kubernetes control plane: no executable ${join(MISSING, 'start-control-plane.sh')}`);
    expect(run.output()).toMatch(/Tests\s+2 failed \| 2 skipped \(4\)/);
    expect(lines(run.output(), /^control-plane: /)).toEqual([]);
  }, FIXTURE_RUN_TIMEOUT_MS);
});

describeWithControlPlane(
  'one control plane per run',
  () => {
    let outDir: string | undefined;
    const strays: number[] = [];
    // What a killed vitest leaves: its hanging fork workers and its (empty) run directory.
    const strayDirs: string[] = [];
    afterEach(async () => {
      for (const pid of strays.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
      for (const dir of [...strayDirs.splice(0), ...(outDir === undefined ? [] : [outDir])]) await rm(dir, { recursive: true, force: true });
    });

    interface Seen {
      workerPid: number;
      runDir: string;
      apiserverUrl: string;
      workDir: string;
      env: Record<string, string>;
    }
    const read = async (dir: string, name: string) => JSON.parse(await readFile(join(dir, `${name}.json`), 'utf8')) as Seen;
    const pids = (s: Seen) => ['ETCD_PID', 'APISERVER_PID', 'KCM_PID'].map((k) => Number(s.env[k]));

    it('is shared by every fork worker and stopped at teardown although a test failed', async () => {
      outDir = await mkdtemp(join(tmpdir(), 'rollguard-fixture-'));
      const run = runFixtures({ ROLLGUARD_FIXTURE_OUT: outDir, ROLLGUARD_FIXTURE_FAIL: 'b' });
      expect(await finished(run), run.output()).toBe(1);
      const [a, b] = [await read(outDir, 'a'), await read(outDir, 'b')];
      expect(a.workerPid).not.toBe(b.workerPid);
      expect(b.workDir).toBe(a.workDir);
      expect(b.apiserverUrl).toBe(a.apiserverUrl);
      expect(lines(run.output(), /^control-plane: up in /), run.output()).toHaveLength(1);
      expect(lines(run.output(), /^control-plane: stopped in /), run.output()).toHaveLength(1);
      expect(run.output()).toMatch(/Tests\s+1 failed \| 1 passed \(2\)/);
      expect(pids(a).every((p) => p > 0 && !alive(p))).toBe(true);
      expect(existsSync(a.workDir)).toBe(false);
      expect(existsSync(a.runDir)).toBe(false);
    }, FIXTURE_RUN_TIMEOUT_MS);

    it('is stopped by its watchdog when vitest is killed before its teardown', async () => {
      const dir = (outDir = await mkdtemp(join(tmpdir(), 'rollguard-fixture-')));
      const run = runFixtures({ ROLLGUARD_FIXTURE_OUT: dir, ROLLGUARD_FIXTURE_HANG: 'a,b' });
      try {
        await waitFor('both fixture workers to reach the control plane', () => existsSync(join(dir, 'a.json')) && existsSync(join(dir, 'b.json')), {
          timeoutMs: FIXTURE_RUN_TIMEOUT_MS - 10_000,
          intervalMs: 200,
          detail: run.output,
        });
      } finally {
        run.child.kill('SIGKILL');
        await run.exited;
      }
      const [a, b] = [await read(dir, 'a'), await read(dir, 'b')];
      strays.push(a.workerPid, b.workerPid);
      strayDirs.push(a.runDir);
      expect(b.workDir).toBe(a.workDir);
      expect(pids(a).every((p) => p > 0)).toBe(true);
      await waitFor('the watchdog to stop etcd, kube-apiserver and kube-controller-manager', () => !pids(a).some(alive) && !existsSync(a.workDir), {
        timeoutMs: 30_000,
        intervalMs: 200,
        detail: () => `still alive: ${pids(a).filter(alive).join(', ')}; work dir there: ${String(existsSync(a.workDir))}`,
      });
    }, FIXTURE_RUN_TIMEOUT_MS + 30_000);
  },
  { start: false },
);
