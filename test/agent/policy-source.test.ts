import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FilePolicySource } from '../../src/agent/policy-source.js';
import { loadPolicySet, type PolicySet } from '../../src/policy/policy-file.js';

const quiet = pino({ level: 'silent' });
let dir: string | undefined;

/** A policy file with `content` in a fresh temp dir, removed after the test. */
async function policyFile(content: string): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'rollguard-policy-'));
  const file = join(dir, 'policy.yaml');
  await writeFile(file, content);
  return file;
}

afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('R11 the agent’s policy file is re-read when it changes', () => {
  it('applies a valid change and keeps the last valid policy when the file turns invalid (F1)', async () => {
    const file = await policyFile('default: { mode: auto }\nnamespaces:\n  shop: { mode: suggest }\n');
    const errors: string[] = [];
    const source = await FilePolicySource.open(file, quiet, { intervalMs: 20, onError: (m) => errors.push(m) });
    try {
      expect(source.policyFor('shop').mode).toBe('suggest');
      expect(source.policyFor('other').mode).toBe('auto');
      await writeFile(file, 'default: { mode: auto }\nnamespaces:\n  shop: { mode: off }\n');
      await source.reload();
      expect(source.policyFor('shop').mode).toBe('off');
      await writeFile(file, 'default: { mode: auto, blackout: soon }\n');
      await source.reload();
      expect(source.policyFor('shop').mode).toBe('off');
      expect(errors.join()).toMatch(/default\.blackout/);
      expect(source.describe()).toMatch(/invalid; the last valid version applies/);
    } finally {
      source.stop();
    }
  });

  it('reloads apply in the order they were asked for: a slow read of the old content never lands after a later one', async () => {
    const file = await policyFile('default: { mode: auto }\n');
    // The first reload reads the old content, then stalls (a busy disk, the watcher's poll); the
    // second reads the new content at once.
    let reads = 0;
    let release: () => void = () => undefined;
    const read = async (path: string): Promise<PolicySet> => {
      const set = await loadPolicySet(path);
      reads++;
      if (reads === 1) await new Promise<void>((r) => { release = r; });
      return set;
    };
    const source = await FilePolicySource.open(file, quiet, { intervalMs: 60_000, read });
    try {
      const first = source.reload();
      await new Promise((r) => setTimeout(r, 50));
      await writeFile(file, 'default: { mode: off }\n');
      const second = source.reload();
      await new Promise((r) => setTimeout(r, 50));
      release();
      await Promise.all([first, second]);
      expect(source.policyFor('shop').mode).toBe('off');
    } finally {
      source.stop();
    }
  });

  it('F1 a file that reads empty on a change (a write caught half-way) keeps the last valid policy, not every default', async () => {
    const file = await policyFile('default: { mode: off }\n');
    const errors: string[] = [];
    const source = await FilePolicySource.open(file, quiet, { intervalMs: 60_000, onError: (m) => errors.push(m) });
    try {
      await writeFile(file, '');
      await source.reload();
      expect(source.policyFor('shop').mode).toBe('off');
      expect(errors.join()).toMatch(/is empty/);
      await writeFile(file, 'default: { mode: suggest }\n');
      await source.reload();
      expect(source.policyFor('shop').mode).toBe('suggest');
    } finally {
      source.stop();
    }
  });

  it('notices a change by itself', async () => {
    const file = await policyFile('default: { mode: auto }\n');
    const source = await FilePolicySource.open(file, quiet, { intervalMs: 20 });
    try {
      await writeFile(file, 'default: { mode: suggest }\n');
      const deadline = Date.now() + 5000;
      while (source.policyFor('x').mode !== 'suggest' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(source.policyFor('x').mode).toBe('suggest');
    } finally {
      source.stop();
    }
  });

  it('refuses to start on an invalid policy, naming the field', async () => {
    const file = await policyFile('default: { mode: sometimes }\n');
    await expect(FilePolicySource.open(file, quiet)).rejects.toThrow(/default\.mode/);
  });
});
