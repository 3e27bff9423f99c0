import type { Container, PodTemplateSpec } from './kube.js';

// Every ConfigMap and Secret a pod template reads (R3). A rollback restores the template but not
// these objects, so they decide whether a change set is reversible.

export type ConfigKind = 'ConfigMap' | 'Secret';

export interface ConfigRef {
  kind: ConfigKind;
  name: string;
  /** Where the template reads it, e.g. "volume config", "envFrom of container app". */
  via: string[];
}

export interface TemplateRefs {
  configMaps: ConfigRef[];
  secrets: ConfigRef[];
  /** configMaps then secrets, each sorted by name. */
  all: ConfigRef[];
  /** Listed apart: image pull credentials are not read by the application. */
  imagePullSecrets: string[];
}

export function refKey(ref: { kind: ConfigKind; name: string }): string {
  return `${ref.kind}/${ref.name}`;
}

class RefCollector {
  private readonly byKey = new Map<string, ConfigRef>();

  add(kind: ConfigKind, name: string | undefined, via: string): void {
    if (name === undefined || name === '') return;
    const key = refKey({ kind, name });
    const existing = this.byKey.get(key);
    if (existing === undefined) this.byKey.set(key, { kind, name, via: [via] });
    else if (!existing.via.includes(via)) existing.via.push(via);
  }

  refs(kind: ConfigKind): ConfigRef[] {
    return [...this.byKey.values()].filter((r) => r.kind === kind).sort((a, b) => a.name.localeCompare(b.name));
  }
}

function collectContainer(out: RefCollector, container: Container, role: string): void {
  const where = `${role} ${container.name}`;
  for (const from of container.envFrom ?? []) {
    out.add('ConfigMap', from.configMapRef?.name, `envFrom of ${where}`);
    out.add('Secret', from.secretRef?.name, `envFrom of ${where}`);
  }
  for (const env of container.env ?? []) {
    out.add('ConfigMap', env.valueFrom?.configMapKeyRef?.name, `env ${env.name} of ${where}`);
    out.add('Secret', env.valueFrom?.secretKeyRef?.name, `env ${env.name} of ${where}`);
  }
}

export function templateRefs(template: PodTemplateSpec | undefined): TemplateRefs {
  const out = new RefCollector();
  const spec = template?.spec;
  for (const volume of spec?.volumes ?? []) {
    out.add('ConfigMap', volume.configMap?.name, `volume ${volume.name}`);
    out.add('Secret', volume.secret?.secretName, `volume ${volume.name}`);
    for (const source of volume.projected?.sources ?? []) {
      out.add('ConfigMap', source.configMap?.name, `projected volume ${volume.name}`);
      out.add('Secret', source.secret?.name, `projected volume ${volume.name}`);
    }
  }
  for (const c of spec?.containers ?? []) collectContainer(out, c, 'container');
  for (const c of spec?.initContainers ?? []) collectContainer(out, c, 'init container');
  for (const c of spec?.ephemeralContainers ?? []) collectContainer(out, c, 'ephemeral container');
  const configMaps = out.refs('ConfigMap');
  const secrets = out.refs('Secret');
  const imagePullSecrets = [...new Set((spec?.imagePullSecrets ?? []).flatMap((s) => (s.name ? [s.name] : [])))].sort();
  return { configMaps, secrets, all: [...configMaps, ...secrets], imagePullSecrets };
}

/** The refs of a deploy's two templates, read once per review and passed to whatever needs them. */
export interface DeployRefs {
  before: TemplateRefs;
  after: TemplateRefs;
}

export function deployRefs(before: PodTemplateSpec | undefined, after: PodTemplateSpec | undefined): DeployRefs {
  return { before: templateRefs(before), after: templateRefs(after) };
}
