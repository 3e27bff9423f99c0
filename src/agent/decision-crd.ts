import { POLICY_API_VERSION, POLICY_GROUP, POLICY_VERSION } from '../policy/policy-crds.js';

// The RollbackDecision CRD: one object per decision, in rollguard's own namespace, so every agent
// replica reads the same decisions and a restart loses none (see decision-object.ts). Generated
// like the policy CRDs and committed under charts/rollguard/crds/ (a test keeps them equal).

export const DECISION_KIND = 'RollbackDecision';
export const DECISION_PLURAL = 'rollbackdecisions';
export const DECISION_API_VERSION = POLICY_API_VERSION;

export const decisionPaths = {
  collection: (namespace: string): string => `/apis/${POLICY_API_VERSION}/namespaces/${encodeURIComponent(namespace)}/${DECISION_PLURAL}`,
  object: (namespace: string, name: string): string => `${decisionPaths.collection(namespace)}/${encodeURIComponent(name)}`,
};

const str = (description: string) => ({ type: 'string', description });
const instant = (description: string) => ({ type: 'string', format: 'date-time', description });
/** Subtrees whose shape is rollguard's decision JSON (documented in docs/reference.md#decision-schema), kept as written. */
const free = (description: string) => ({ type: 'object', description, 'x-kubernetes-preserve-unknown-fields': true });

export function decisionCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${DECISION_PLURAL}.${POLICY_GROUP}`, labels: { 'app.kubernetes.io/name': 'rollguard' } },
    spec: {
      group: POLICY_GROUP,
      scope: 'Namespaced',
      names: { kind: DECISION_KIND, listKind: `${DECISION_KIND}List`, plural: DECISION_PLURAL, singular: 'rollbackdecision', shortNames: ['rbd'], categories: ['rollguard'] },
      versions: [
        {
          name: POLICY_VERSION,
          served: true,
          storage: true,
          additionalPrinterColumns: [
            { name: 'Namespace', type: 'string', jsonPath: '.spec.deployment.namespace', description: "The Deployment's namespace." },
            { name: 'Deployment', type: 'string', jsonPath: '.spec.deployment.name' },
            { name: 'Verdict', type: 'string', jsonPath: '.spec.verdict' },
            { name: 'State', type: 'string', jsonPath: '.status.state' },
            { name: 'By', type: 'string', jsonPath: '.status.by', description: 'Who applied or dismissed it (or rollguard-agent).' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: "One decision of rollguard's agent about one deploy, written and read by every agent replica. The name is the decision id.",
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: {
                  type: 'object',
                  description: 'The facts the decision is about, and the decision (R1-R13 conditions with evidence).',
                  required: ['deployment', 'templateHash', 'verdict', 'firstDecidedAt', 'decision'],
                  properties: {
                    deployment: { type: 'object', required: ['namespace', 'name'], properties: { namespace: { type: 'string' }, name: { type: 'string' }, uid: { type: 'string' } } },
                    templateHash: str('The pod template the decision is about: a later deploy supersedes it.'),
                    verdict: { type: 'string', enum: ['auto', 'suggest', 'none'] },
                    summary: str('The verdict and its main reason, one sentence.'),
                    onset: instant('When the regression began.'),
                    toRevision: { type: 'integer', description: 'The revision a rollback restores.' },
                    deployStart: instant('When the deploy started (admitted).'),
                    deployCompleteAt: instant('When its rollout completed.'),
                    firstDecidedAt: instant('When the decision was first made.'),
                    decision: free('The decision as GET /decisions/{id} shows it: conditions with evidence, confidence, command, blast radius, owner, change set, notes (bounded in size).'),
                  },
                },
                status: {
                  type: 'object',
                  properties: {
                    state: { type: 'string', enum: ['open', 'rolled-back', 'applied', 'dismissed', 'expired', 'rollback-failed', 'superseded', 'closed'] },
                    reason: str('Why the state is what it is.'),
                    by: str('Who acted: the person who applied or dismissed it, or rollguard-agent.'),
                    at: instant('When the state last changed.'),
                    via: { type: 'string', enum: ['web', 'slack', 'cli', 'agent'], description: 'Through which channel.' },
                    lastChangedAt: instant('When the decision last changed (verdict, summary or state).'),
                    handoff: free('R9: the handoff after rollguard\'s own rollback, and how many times it was published.'),
                    published: str('The last change the Lease holder published (Events, Slack, webhook), so a new leader neither repeats nor skips one.'),
                    notifications: {
                      type: 'object',
                      properties: {
                        slack: { type: 'object', properties: { channel: { type: 'string' }, ts: { type: 'string' } }, description: 'The Slack message the decision was posted as: edited, never posted again.' },
                        webhook: { type: 'array', items: { type: 'string' }, description: 'The events delivered to the generic webhook.' },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
}
