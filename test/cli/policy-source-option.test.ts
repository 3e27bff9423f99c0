import { describe, expect, it } from 'vitest';
import { choosePolicySource } from '../../src/cli/policy-source-option.js';
import { runCli } from '../support/run-cli.js';

describe('R11 where the agent and the webhook take their policies from', () => {
  it('is chosen by the flags, never guessed: --policy FILE, --policy-source crd, else built-in defaults', () => {
    expect(choosePolicySource({ policy: 'p.yaml' })).toEqual({ type: 'file', path: 'p.yaml' });
    expect(choosePolicySource({ policy: 'p.yaml', policySource: 'file' })).toEqual({ type: 'file', path: 'p.yaml' });
    expect(choosePolicySource({ policySource: 'crd' })).toEqual({ type: 'crd' });
    expect(choosePolicySource({})).toEqual({ type: 'defaults' });
  });

  it('F5 refuses contradictory or incomplete flags with a message', () => {
    expect(() => choosePolicySource({ policy: 'p.yaml', policySource: 'crd' })).toThrow(/--policy FILE or --policy-source crd, not both/);
    expect(() => choosePolicySource({ policySource: 'file' })).toThrow(/--policy-source file needs --policy FILE/);
  });

  it('F5 the webhook refuses --policy-source crd without a cluster, before it listens', () => {
    const r = runCli(['webhook', '--tls-cert', 'x', '--tls-key', 'y', '--no-kube', '--policy-source', 'crd']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--policy-source crd watches the policy objects in a cluster; --no-kube runs without one/);
  });
});
