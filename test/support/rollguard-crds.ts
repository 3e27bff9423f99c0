import { policyCrds, policyPaths } from '../../src/policy/policy-crds.js';
import { decisionCrd } from '../../src/agent/decision-crd.js';
import { isStatus, type KubeRest } from '../../src/kube/rest.js';
import { waitFor } from './wait.js';

// rollguard's CRDs (the policies, RollbackDecision) on the run's control plane: cluster-wide, so
// created (or brought up to date) once and never deleted (another test may be using them); then
// waited for until the apiserver serves them.

type Crd = { metadata: { name: string; resourceVersion?: string }; status?: { conditions?: { type: string; status: string }[] } };

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

export async function installRollguardCrds(admin: KubeRest): Promise<void> {
  for (const crd of [...policyCrds(), decisionCrd()] as unknown as Crd[]) {
    await waitFor(`CRD ${crd.metadata.name} to be created or updated`, async () => {
      try {
        await admin.create(CRDS, crd);
        return true;
      } catch (err) {
        if (!isStatus(err, 409)) throw err;
      }
      const current = await admin.get<Crd>(`${CRDS}/${crd.metadata.name}`);
      try {
        await admin.update(`${CRDS}/${crd.metadata.name}`, { ...crd, metadata: { ...crd.metadata, resourceVersion: current.metadata.resourceVersion } });
        return true;
      } catch (err) {
        if (isStatus(err, 409)) return false;
        throw err;
      }
    });
    await waitFor(`CRD ${crd.metadata.name} to be established`, async () => {
      const c = await admin.get<Crd>(`${CRDS}/${crd.metadata.name}`);
      return c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True') === true ? true : undefined;
    });
  }
  await waitFor('the apiserver to serve rollguard.io/v1alpha1', async () => {
    const list = await admin.get<{ resources?: { name: string }[] }>(policyPaths.discovery);
    return (list.resources ?? []).some((r) => r.name === 'rollbackdecisions') && (list.resources ?? []).length >= 5;
  });
}
