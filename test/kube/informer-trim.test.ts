import { describe, expect, it } from 'vitest';
import { dropManagedFields } from '../../src/kube/informer.js';

describe('the default informer trim', () => {
  it('drops managedFields and keeps every other field as an own data property', () => {
    const wire = JSON.parse('{"kind":"Deployment","metadata":{"name":"a","namespace":"n","__proto__":{"polluted":true},"annotations":{"k":"v"},"managedFields":[{"manager":"m"}]},"spec":{"replicas":1}}') as { kind: string; metadata: Record<string, unknown>; spec: unknown };
    const trimmed = dropManagedFields(wire);
    expect(trimmed.metadata).not.toHaveProperty('managedFields');
    expect(trimmed.metadata.annotations).toEqual({ k: 'v' });
    expect(Object.getOwnPropertyNames(trimmed.metadata)).toEqual(['name', 'namespace', '__proto__', 'annotations']);
    expect((trimmed.metadata as { polluted?: unknown }).polluted).toBeUndefined();
    expect(trimmed.spec).toBe(wire.spec);
    expect(wire.metadata).toHaveProperty('managedFields');
  });
});
