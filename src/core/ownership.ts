import type { OwnerInfo } from './decision-types.js';
import { annotationsOf, labelsOf, type Deployment } from './kube.js';

// R13: who else writes this Deployment. Argo CD (auto-sync) and Flux reconcile continuously and
// would put a plain rollback back within seconds; Helm does not reconcile by itself.

const ARGO_TRACKING = 'argocd.argoproj.io/tracking-id';
const ARGO_INSTANCE = 'argocd.argoproj.io/instance';
const FLUX_OWNERS = [
  { object: 'kustomization', nameLabel: 'kustomize.toolkit.fluxcd.io/name', namespaceLabel: 'kustomize.toolkit.fluxcd.io/namespace' },
  { object: 'helmrelease', nameLabel: 'helm.toolkit.fluxcd.io/name', namespaceLabel: 'helm.toolkit.fluxcd.io/namespace' },
] as const;
const HELM_RELEASE = 'meta.helm.sh/release-name';
const HELM_RELEASE_NAMESPACE = 'meta.helm.sh/release-namespace';
const MANAGED_BY = 'app.kubernetes.io/managed-by';

function argoApp(labels: Record<string, string>, annotations: Record<string, string>): string | undefined {
  const tracking = annotations[ARGO_TRACKING];
  // The tracking id reads "<app>:<group>/<kind>:<namespace>/<name>"; the app may be "<ns>_<app>".
  if (tracking !== undefined) return tracking.split(':')[0]?.replace('_', '/');
  return labels[ARGO_INSTANCE];
}

export function detectOwner(deployment: Deployment, undoCommand: string): OwnerInfo {
  const labels = labelsOf(deployment);
  const annotations = annotationsOf(deployment);
  const ns = deployment.metadata?.namespace ?? 'default';
  const app = argoApp(labels, annotations);
  if (app !== undefined) {
    return {
      kind: 'argocd',
      name: app,
      reconciles: true,
      // `argocd app rollback` refuses while auto-sync is on; without a history id it restores the previous sync.
      command: `argocd app set ${app} --sync-policy none && argocd app rollback ${app}`,
      route: [
        `argocd app set ${app} --sync-policy none   # stop auto-sync, or Argo CD re-applies the bad revision`,
        `argocd app rollback ${app}                  # roll back to the previous synced revision`,
        'revert the change in Git, then re-enable auto-sync',
      ],
    };
  }
  for (const flux of FLUX_OWNERS) {
    const name = labels[flux.nameLabel];
    if (name === undefined) continue;
    const fluxNs = labels[flux.namespaceLabel] ?? ns;
    const suspend = `flux suspend ${flux.object} ${name} -n ${fluxNs}`;
    const back = flux.object === 'kustomization' ? undoCommand : `helm rollback ${name} -n ${ns}`;
    return {
      kind: 'flux',
      name: `${flux.object}/${name}`,
      namespace: fluxNs,
      reconciles: true,
      command: `${suspend} && ${back}`,
      route: [suspend, back, `revert the change in Git, then flux resume ${flux.object} ${name} -n ${fluxNs}`],
    };
  }
  const release = annotations[HELM_RELEASE];
  if (release !== undefined || labels[MANAGED_BY] === 'Helm') {
    const name = release ?? labels['app.kubernetes.io/instance'] ?? deployment.metadata?.name ?? '';
    const releaseNs = annotations[HELM_RELEASE_NAMESPACE] ?? ns;
    return {
      kind: 'helm',
      name,
      namespace: releaseNs,
      reconciles: false,
      route: [`helm rollback ${name} -n ${releaseNs}   # the durable route: the next helm upgrade would bring the change back`],
    };
  }
  return { kind: 'none', reconciles: false, route: [] };
}
