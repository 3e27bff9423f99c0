import { describe, expect, it } from 'vitest';
import { shareSubtrees } from '../../src/agent/shared-subtrees.js';
import type { PodTemplateSpec } from '../../src/core/kube.js';
import { templateHash } from '../../src/core/template-hash.js';

const template = (image: string, extraLabel?: string) =>
  JSON.parse(JSON.stringify({
    metadata: { labels: { app: 'web', ...(extraLabel === undefined ? {} : { 'pod-template-hash': extraLabel }) } },
    spec: { containers: [{ name: 'app', image, env: [{ name: 'A', value: '1' }], readinessProbe: { httpGet: { path: '/ready', port: 8080 } } }], volumes: [{ name: 'cfg', configMap: { name: 'web' } }] },
  })) as { metadata: { labels: Record<string, string> }; spec: { containers: { name: string; env: unknown; readinessProbe: unknown; image: string }[]; volumes: unknown } };

describe('R7 a cached previous template shares what equals the current one', () => {
  it('is equal to the template read, with the equal parts taken from the current template', () => {
    const current = template('web:2');
    const read = template('web:1', 'abc');
    const shared = shareSubtrees(read, current);
    expect(shared).toEqual(read);
    expect(templateHash(shared as PodTemplateSpec)).toBe(templateHash(read as PodTemplateSpec));
    expect(shared.spec.volumes).toBe(current.spec.volumes);
    expect(shared.spec.containers[0]?.env).toBe(current.spec.containers[0]?.env);
    expect(shared.spec.containers[0]?.readinessProbe).toBe(current.spec.containers[0]?.readinessProbe);
    expect(shared.spec.containers[0]).not.toBe(current.spec.containers[0]);
    expect(shared.metadata.labels).not.toBe(current.metadata.labels);
  });

  it('returns the other one whole when everything is equal, and keeps a different key order apart', () => {
    const a = template('web:1');
    expect(shareSubtrees(template('web:1'), a)).toBe(a);
    const reordered = { b: 1, a: 2 };
    expect(shareSubtrees({ a: 2, b: 1 }, reordered)).not.toBe(reordered);
    expect(Object.keys(shareSubtrees({ a: 2, b: 1 }, reordered))).toEqual(['a', 'b']);
  });

  it('never takes a part of a different kind or length, and keeps "__proto__" as data', () => {
    expect(shareSubtrees({ x: [1, 2] }, { x: [1, 2, 3] })).toEqual({ x: [1, 2] });
    expect(shareSubtrees({ x: { 0: 1 } }, { x: [1] })).toEqual({ x: { 0: 1 } });
    expect(shareSubtrees({ x: null }, { x: {} })).toEqual({ x: null });
    const wire = JSON.parse('{"__proto__":{"polluted":true},"k":"v"}') as Record<string, unknown>;
    const shared = shareSubtrees(wire, { k: 'w' });
    expect(Object.getOwnPropertyNames(shared)).toEqual(['__proto__', 'k']);
    expect((shared as { polluted?: unknown }).polluted).toBeUndefined();
  });
});
