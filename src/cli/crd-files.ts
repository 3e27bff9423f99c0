import { stringify } from 'yaml';
import { decisionCrd, DECISION_PLURAL } from '../agent/decision-crd.js';
import { POLICY_GROUP, POLICY_RESOURCES, policyCrd } from '../policy/policy-crds.js';

// The files under charts/rollguard/crds/, rendered here rather than beside the CRDs: the agent and
// the webhook build the CRD objects, and only `rollguard manifests` needs YAML to write them.

export interface CrdFile {
  name: string;
  text: string;
}

// YAML 1.1, as kubectl and Helm read it: "off" quoted, or it would be the boolean false.
const generated = (source: string, crd: Record<string, unknown>): string =>
  `# Generated from ${source} by \`rollguard manifests --crds --out-dir charts/rollguard/crds\`; do not edit.\n${stringify(crd, { version: '1.1' })}`;

/** The file for each policy CRD. */
export function policyCrdFiles(): CrdFile[] {
  return POLICY_RESOURCES.map((r) => ({ name: `${r.plural}.${POLICY_GROUP}.yaml`, text: generated('src/policy/policy-crds.ts', policyCrd(r)) }));
}

export function decisionCrdFile(): CrdFile {
  return { name: `${DECISION_PLURAL}.${POLICY_GROUP}.yaml`, text: generated('src/agent/decision-crd.ts', decisionCrd()) };
}
