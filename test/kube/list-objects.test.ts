import { afterAll, beforeAll, expect, it } from 'vitest';
import { listObjects } from '../../src/kube/list-objects.js';
import { KubeRest } from '../../src/kube/rest.js';
import { controlPlane, describeWithControlPlane, type ControlPlane } from '../support/control-plane.js';
import { createTestNamespace, type TestNamespace } from '../support/namespaces.js';

// Paged lists against the real apiserver: every object of one snapshot arrives, each kept in the
// form `keep` returns as its page is read, metadata-only lists included (F3).

let cp: ControlPlane;
let ns: TestNamespace;
const NAMES = ['a', 'b', 'c', 'd', 'e'].map((x) => `paged-${x}`);

describeWithControlPlane('listing page by page', () => {
  beforeAll(async () => {
    cp = await controlPlane();
    ns = await createTestNamespace('paged', { kubeConfig: cp.kubeConfig });
    const admin = new KubeRest(cp.kubeConfig);
    for (const name of NAMES) await admin.create(`/api/v1/namespaces/${ns.name}/secrets`, { metadata: { name, labels: { paged: 'yes' } }, stringData: { token: `secret-${name}` } });
  });
  afterAll(() => ns.cleanup());

  it('collects every page of a list longer than a page, kept as `keep` returns it', async () => {
    const kept: string[] = [];
    const listed = await listObjects<{ metadata?: { name?: string } }>(cp.kubeConfig, `/api/v1/namespaces/${ns.name}/secrets?labelSelector=paged%3Dyes`, false, (item) => {
      kept.push(item.metadata?.name ?? '');
      return { metadata: { name: item.metadata?.name ?? '' } };
    }, 2);
    expect(listed.items.map((i) => i.metadata?.name).sort()).toEqual(NAMES);
    expect(kept.sort()).toEqual(NAMES);
    expect(listed.items.every((i) => Object.keys(i).join() === 'metadata')).toBe(true);
    expect(Number(listed.resourceVersion)).toBeGreaterThan(0);
  });

  it('F3 a metadata-only paged list holds no Secret data', async () => {
    const listed = await listObjects<Record<string, unknown>>(cp.kubeConfig, `/api/v1/namespaces/${ns.name}/secrets?labelSelector=paged%3Dyes`, true, (item) => item, 2);
    expect(listed.items).toHaveLength(NAMES.length);
    expect(JSON.stringify(listed.items)).not.toContain(Buffer.from('secret-paged-a').toString('base64'));
    expect(listed.items.every((i) => !('data' in i))).toBe(true);
  });
});
