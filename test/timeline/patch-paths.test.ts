import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../src/core/kube.js';
import { patchShape, touchesTemplate } from '../../src/timeline/patch-paths.js';
import { deploymentObject } from '../fixtures/audit/builders.js';

// R3: what a patch wrote, from the body an audit record holds, with its type inferred.

const after = deploymentObject({ image: 'registry.example/shop/checkout:1.5.0' }) as Deployment;
const URI = '/apis/apps/v1/namespaces/shop/deployments/checkout?fieldManager=kubectl-patch';
const shape = (body: unknown, uri = URI) => patchShape(body, uri, after);

describe('R3 patch type inference', () => {
  it('R3: a list is a JSON patch; test ops write nothing; ~1 and ~0 are unescaped', () => {
    expect(shape([{ op: 'test', path: '/spec/replicas', value: 3 }, { op: 'replace', path: '/metadata/annotations/a~1b~0c', value: 'x' }])).toEqual({
      type: 'json',
      touched: [['metadata', 'annotations', 'a/b~c']],
    });
  });

  it('R3: a JSON patch position in a container list is named from the stored result, unless an op moved list elements', () => {
    const image = { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'x' };
    expect(shape([image])).toEqual({ type: 'json', touched: [['spec', 'template', 'spec', 'containers', '[name=app]', 'image']] });
    const added = shape([image, { op: 'add', path: '/spec/template/spec/containers/-', value: { name: 'sidecar' } }]);
    expect(added).toEqual({
      type: 'json',
      touched: [
        ['spec', 'template', 'spec', 'containers', '[0]', 'image'],
        ['spec', 'template', 'spec', 'containers', '[-]'],
      ],
    });
  });

  it('R3: a JSON patch move writes both ends; an op without a path is unreadable', () => {
    expect(shape([{ op: 'move', from: '/spec/minReadySeconds', path: '/spec/template/metadata/labels/x' }])).toEqual({
      type: 'json',
      touched: [['spec', 'template', 'metadata', 'labels', 'x'], ['spec', 'minReadySeconds']],
    });
    expect(shape([{ op: 'replace', value: 1 }])).toEqual({ type: 'unreadable' });
    expect(shape('not a patch')).toEqual({ type: 'unreadable' });
  });

  it('R3: $setElementOrder, $patch, $retainKeys and $deleteFromPrimitiveList mean strategic merge; merge-key lists merge by key', () => {
    const body = {
      spec: {
        strategy: { $retainKeys: ['type'], type: 'Recreate' },
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'app' }],
            containers: [{ name: 'app', image: 'x', '$deleteFromPrimitiveList/args': ['--old'], env: [{ name: 'A', value: '1' }] }, { name: 'gone', $patch: 'delete' }],
            tolerations: [{ key: 'k', operator: 'Exists' }],
          },
        },
      },
    };
    expect(shape(body)).toEqual({
      type: 'strategic',
      touched: [
        ['spec', 'strategy'],
        ['spec', 'template', 'spec', 'containers', '[order]'],
        ['spec', 'template', 'spec', 'containers', '[name=app]', 'image'],
        ['spec', 'template', 'spec', 'containers', '[name=app]', 'args'],
        ['spec', 'template', 'spec', 'containers', '[name=app]', 'env', '[name=A]', 'value'],
        ['spec', 'template', 'spec', 'containers', '[name=gone]'],
        ['spec', 'template', 'spec', 'tolerations'],
      ],
    });
  });

  it('R3: a list-level $patch: replace replaces the list whole', () => {
    expect(shape({ spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'app', image: 'x' }] } } } })).toEqual({
      type: 'strategic',
      touched: [['spec', 'template', 'spec', 'containers']],
    });
  });

  it('R3: an object without directives may be a merge patch: each list it names counts as replaced whole; null removes a field', () => {
    expect(shape({ metadata: { labels: { team: null } }, spec: { template: { spec: { containers: [{ name: 'app', image: 'x' }] } } } })).toEqual({
      type: 'merge',
      touched: [
        ['metadata', 'labels', 'team'],
        ['spec', 'template', 'spec', 'containers'],
      ],
    });
    expect(shape({})).toEqual({ type: 'merge', touched: [] });
  });

  it('R3: apiVersion + kind + metadata.name, or force= in the request, is server-side apply', () => {
    expect(shape({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'checkout' }, spec: {} })).toEqual({ type: 'apply' });
    expect(shape({ spec: { template: {} } }, `${URI}&force=true`)).toEqual({ type: 'apply' });
  });

  it('touchesTemplate: the template, inside it or above it', () => {
    expect([[], ['spec'], ['spec', 'template', 'spec'], ['spec', 'strategy'], ['metadata', 'labels']].map(touchesTemplate)).toEqual([true, true, true, false, false]);
  });
});
