import { readFile } from 'node:fs/promises';
import * as z from 'zod';
import { DEFAULT_POLICY, describeIssues, parsePolicy, policyFor, type Policy } from '../core/policy.js';

// `--policy FILE`: the cluster default and per-namespace overrides in one YAML or JSON document:
//
//   default:   { mode: auto, blackout: 10m }
//   namespaces:
//     payments: { mode: suggest }
//
// Every error names the field it is about; nothing invalid is silently ignored (R11).

export interface PolicySet {
  clusterDefault: Policy;
  perNamespace: ReadonlyMap<string, Policy>;
}

export const DEFAULT_POLICY_SET: PolicySet = { clusterDefault: DEFAULT_POLICY, perNamespace: new Map() };

const documentSchema = z.strictObject({
  default: z.unknown().optional(),
  namespaces: z.record(z.string().min(1), z.unknown()).optional(),
});

export type PolicySetResult = { ok: true; set: PolicySet } | { ok: false; errors: string[] };

export function parsePolicySet(doc: unknown): PolicySetResult {
  const top = documentSchema.safeParse(doc ?? {});
  if (!top.success) return { ok: false, errors: describeIssues(top.error.issues).map((e) => `${e} (expected the keys "default" and "namespaces")`) };
  const base = parsePolicy(top.data.default, DEFAULT_POLICY, 'default');
  if (!base.ok) return base;
  const errors: string[] = [];
  const perNamespace = new Map<string, Policy>();
  for (const [namespace, input] of Object.entries(top.data.namespaces ?? {})) {
    const parsed = parsePolicy(input, base.policy, `namespaces.${namespace}`);
    if (parsed.ok) perNamespace.set(namespace, parsed.policy);
    else errors.push(...parsed.errors);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, set: { clusterDefault: base.policy, perNamespace } };
}

/** The file's document as written (before defaults), e.g. to tell which level set a field. */
export async function readPolicyDocument(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8');
  // Loaded here, not at start-up: a process whose policies come from the CRDs never parses YAML.
  // yaml is CommonJS: its exports object is the default export (the image's bundle gives it no named ones).
  const { parse } = (await import('yaml')).default;
  try {
    return parse(text) as unknown;
  } catch (err) {
    throw new Error(`${path} is not valid YAML or JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/**
 * `refuseEmpty`: an empty document is an error rather than "every default". A reload sets it: a
 * file caught between an editor's truncate and its write reads empty, and every default (mode auto)
 * is more permissive than most policies it would replace (F1).
 */
export async function loadPolicySet(path: string, opts: { refuseEmpty?: boolean } = {}): Promise<PolicySet> {
  const doc = await readPolicyDocument(path);
  if (opts.refuseEmpty === true && (doc === null || doc === undefined)) throw new Error(`${path} is empty (a write in progress, or the file was emptied)`);
  const result = parsePolicySet(doc);
  if (!result.ok) throw new Error(`invalid policy in ${path}:\n  ${result.errors.join('\n  ')}`);
  return result.set;
}

export function resolver(set: PolicySet): (namespace: string) => Policy {
  return (namespace) => policyFor(namespace, set.clusterDefault, set.perNamespace);
}
