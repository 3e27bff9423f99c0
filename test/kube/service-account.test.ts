import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ownNamespace, SERVICE_ACCOUNT_DIR, serviceAccountUsername } from '../../src/kube/service-account.js';

describe('R12 the agent identity the webhook trusts', () => {
  it('is the service account username the apiserver puts in userInfo', () => {
    expect(serviceAccountUsername('rollguard-ops', 'rollguard-agent')).toBe('system:serviceaccount:rollguard-ops:rollguard-agent');
  });
});

describe('F2 rollguard knows its own namespace', () => {
  it('takes the given one, else the pod service account namespace, else rollguard', () => {
    const root = mkdtempSync(join(tmpdir(), 'rollguard-sa-'));
    expect(ownNamespace('team-x', root)).toBe('team-x');
    expect(ownNamespace(undefined, root)).toBe('rollguard');
    mkdirSync(join(root, SERVICE_ACCOUNT_DIR), { recursive: true });
    writeFileSync(join(root, SERVICE_ACCOUNT_DIR, 'namespace'), 'rollguard-ops\n');
    expect(ownNamespace(undefined, root)).toBe('rollguard-ops');
  });
});
