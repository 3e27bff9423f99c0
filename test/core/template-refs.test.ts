import { describe, expect, it } from 'vitest';
import type { PodTemplateSpec } from '../../src/core/kube.js';
import { templateRefs } from '../../src/core/template-refs.js';

describe('R3 template references', () => {
  const template: PodTemplateSpec = {
    spec: {
      containers: [
        {
          name: 'app',
          envFrom: [{ configMapRef: { name: 'app-env' } }, { secretRef: { name: 'app-secret-env' } }],
          env: [
            { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'logging', key: 'level' } } },
            { name: 'PW', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
            { name: 'PLAIN', value: 'x' },
            { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
        },
      ],
      initContainers: [{ name: 'init', envFrom: [{ configMapRef: { name: 'init-cm' } }] }],
      ephemeralContainers: [{ name: 'debug', env: [{ name: 'T', valueFrom: { secretKeyRef: { name: 'debug-token' } } }] }],
      volumes: [
        { name: 'conf', configMap: { name: 'app-files' } },
        { name: 'tls', secret: { secretName: 'app-tls' } },
        { name: 'bundle', projected: { sources: [{ configMap: { name: 'ca-bundle' } }, { secret: { name: 'proj-secret' } }, { serviceAccountToken: {} }] } },
        { name: 'scratch', emptyDir: {} },
      ],
      imagePullSecrets: [{ name: 'regcred' }],
    },
  };

  it('finds every ConfigMap and Secret from volumes, projected volumes, envFrom and env in all container kinds', () => {
    const refs = templateRefs(template);
    expect(refs.configMaps.map((r) => r.name)).toEqual(['app-env', 'app-files', 'ca-bundle', 'init-cm', 'logging']);
    expect(refs.secrets.map((r) => r.name)).toEqual(['app-secret-env', 'app-tls', 'db', 'debug-token', 'proj-secret']);
    expect(refs.all).toHaveLength(10);
  });

  it('lists imagePullSecrets apart, not as application secrets', () => {
    const refs = templateRefs(template);
    expect(refs.imagePullSecrets).toEqual(['regcred']);
    expect(refs.secrets.some((r) => r.name === 'regcred')).toBe(false);
  });

  it('says where each reference is read', () => {
    const refs = templateRefs(template);
    expect(refs.configMaps.find((r) => r.name === 'init-cm')?.via).toEqual(['envFrom of init container init']);
    expect(refs.secrets.find((r) => r.name === 'debug-token')?.via).toEqual(['env T of ephemeral container debug']);
    expect(refs.configMaps.find((r) => r.name === 'ca-bundle')?.via).toEqual(['projected volume bundle']);
  });

  it('merges two uses of one object into one reference and ignores a missing template', () => {
    const refs = templateRefs({
      spec: {
        containers: [{ name: 'a', envFrom: [{ configMapRef: { name: 'x' } }] }, { name: 'b', envFrom: [{ configMapRef: { name: 'x' } }] }],
        volumes: [{ name: 'v', configMap: { name: 'x' } }],
      },
    });
    expect(refs.configMaps).toEqual([{ kind: 'ConfigMap', name: 'x', via: ['volume v', 'envFrom of container a', 'envFrom of container b'] }]);
    expect(templateRefs(undefined).all).toEqual([]);
  });
});
