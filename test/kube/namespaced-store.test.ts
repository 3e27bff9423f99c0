import { describe, expect, it } from 'vitest';
import { NamespacedStore } from '../../src/kube/namespaced-store.js';

const obj = (namespace: string | undefined, name: string, rv = '1') => ({ metadata: { ...(namespace === undefined ? {} : { namespace }), name, resourceVersion: rv } });

describe('F1 an informer store answers per namespace exactly what it holds', () => {
  it('F1 lists one namespace, or all, and replaces an object by namespace and name', () => {
    const s = new NamespacedStore();
    s.set(obj('a', 'x'));
    s.set(obj('a', 'y'));
    s.set(obj('b', 'x'));
    s.set(obj('a', 'x', '2'));
    expect(s.list('a').map((o) => `${o.metadata?.name ?? ''}@${o.metadata?.resourceVersion ?? ''}`).sort()).toEqual(['x@2', 'y@1']);
    expect(s.list('b').map((o) => o.metadata?.name)).toEqual(['x']);
    expect(s.list('c')).toEqual([]);
    expect(s.list()).toHaveLength(3);
  });

  it('F1 forgets a deleted object and keeps cluster-scoped ones apart from namespaced ones', () => {
    const s = new NamespacedStore();
    s.set(obj(undefined, 'x'));
    s.set(obj('a', 'x'));
    s.delete('a', 'x');
    expect(s.has('a', 'x')).toBe(false);
    expect(s.get(undefined, 'x')?.metadata?.name).toBe('x');
    expect(s.list('a')).toEqual([]);
    expect([...s.values()]).toHaveLength(1);
  });
});
