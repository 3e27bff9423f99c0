import type { KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Informer } from '../../src/kube/informer.js';
import { KubeApiServer, testApiKubeConfig, until } from '../support/kube-api-server.js';

// The informer hands its trim the version an object replaces, so what is kept can share with it.

let server: KubeApiServer | undefined;
let informer: Informer<KubernetesObject> | undefined;

afterEach(async () => {
  await informer?.stop();
  await server?.stop();
});

describe('the informer trim sees the version it replaces', () => {
  it('gets nothing for an object first listed or added, and the kept version for a watch update', async () => {
    server = await new KubeApiServer().start();
    server.create('configmaps', { metadata: { name: 'a', namespace: 'shop' } });
    const calls: { name: string | undefined; previous: string | undefined }[] = [];
    informer = new Informer<KubernetesObject>({
      kubeConfig: testApiKubeConfig(server),
      path: '/api/v1/configmaps',
      metadataOnly: true,
      logger: pino({ level: 'silent' }),
      clock: Date.now,
      trim: (obj, previous) => {
        calls.push({ name: obj.metadata?.name, previous: previous?.metadata?.resourceVersion });
        return obj;
      },
    });
    await informer.start();
    await until('the watch is open', () => server?.openWatches() === 1);
    const listed = informer.get('shop', 'a')?.metadata?.resourceVersion;
    server.create('configmaps', { metadata: { name: 'b', namespace: 'shop' } });
    server.update('configmaps', 'shop', 'a', (o) => {
      o.metadata.labels = { changed: 'yes' };
    });
    await until('the update is kept', () => informer?.get('shop', 'a')?.metadata?.labels?.changed === 'yes');
    expect(calls).toEqual([
      { name: 'a', previous: undefined },
      { name: 'b', previous: undefined },
      { name: 'a', previous: listed },
    ]);
  });
});
