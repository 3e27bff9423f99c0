import { Option } from 'commander';

// `--policy FILE` or `--policy-source crd`, for the agent and the webhook. Chosen explicitly, never
// by probing the cluster: a probe that fails for a moment would silently mean built-in defaults,
// which may be more permissive than the policies in the cluster (F1). Neither: built-in defaults.

export type PolicySourceChoice = { type: 'file'; path: string } | { type: 'crd' } | { type: 'defaults' };

export function policySourceOption(): Option {
  return new Option('--policy-source <source>', 'where policies come from: crd (ClusterRollbackPolicy and RollbackPolicy objects, watched) or file (--policy FILE); default: file with --policy, else built-in defaults').choices(['crd', 'file']);
}

export function choosePolicySource(opts: { policy?: string | undefined; policySource?: string | undefined }): PolicySourceChoice {
  if (opts.policySource === 'crd') {
    if (opts.policy !== undefined) throw new Error('give --policy FILE or --policy-source crd, not both: policies come from one place');
    return { type: 'crd' };
  }
  if (opts.policy !== undefined) return { type: 'file', path: opts.policy };
  if (opts.policySource === 'file') throw new Error('--policy-source file needs --policy FILE');
  return { type: 'defaults' };
}
