import type { OwnerInfo } from './decision-types.js';
import { annotationsOf, labelsOf, type Deployment } from './kube.js';

// R13: who else writes this Deployment. Argo CD (auto-sync) and Flux reconcile continuously and
// would put a plain rollback back within seconds; Helm does not reconcile by itself.

const ARGO_TRACKING = 'argocd.argoproj.io/tracking-id';
const ARGO_INSTANCE = 'argocd.argoproj.io/instance';
const FLUX_KS_NAME = 'kustomize.toolkit.fluxcd.io/name';
const FLUX_KS_NAMESPACE = 'kustomize.toolkit.fluxcd.io/namespace';
const FLUX_HR_NAME = 'helm.toolkit.fluxcd.io/name';
const FLUX_HR_NAMESPACE = 'helm.toolkit.fluxcd.io/namespace';
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
      route: [
        `argocd app set ${app} --sync-policy none   # stop auto-sync, or Argo CD re-applies the bad revision`,
        `argocd app rollback ${app}                  # roll back to the previous synced revision`,
        'revert the change in Git, then re-enable auto-sync',
      ],
    };
  }
  const ks = labels[FLUX_KS_NAME];
  if (ks !== undefined) {
    const ksNs = labels[FLUX_KS_NAMESPACE] ?? ns;
    return {
      kind: 'flux',
      name: `kustomization/${ks}`,
      namespace: ksNs,
      reconciles: true,
      route: [`flux suspend kustomization ${ks} -n ${ksNs}`, undoCommand, `revert the change in Git, then flux resume kustomization ${ks} -n ${ksNs}`],
    };
  }
  const hr = labels[FLUX_HR_NAME];
  if (hr !== undefined) {
    const hrNs = labels[FLUX_HR_NAMESPACE] ?? ns;
    return {
      kind: 'flux',
      name: `helmrelease/${hr}`,
      namespace: hrNs,
      reconciles: true,
      route: [`flux suspend helmrelease ${hr} -n ${hrNs}`, `helm rollback ${hr} -n ${ns}`, `revert the change in Git, then flux resume helmrelease ${hr} -n ${hrNs}`],
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
