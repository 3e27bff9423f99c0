// The kinds rollguard reads, with the REST path segments the apiserver serves them under.

export interface ResourceInfo {
  kind: 'Deployment' | 'ConfigMap' | 'Secret' | 'Job';
  group: string;
  version: string;
  plural: string;
}

const RESOURCES: readonly ResourceInfo[] = [
  { kind: 'Deployment', group: 'apps', version: 'v1', plural: 'deployments' },
  { kind: 'ConfigMap', group: '', version: 'v1', plural: 'configmaps' },
  { kind: 'Secret', group: '', version: 'v1', plural: 'secrets' },
  { kind: 'Job', group: 'batch', version: 'v1', plural: 'jobs' },
];

const ALIASES: Record<string, ResourceInfo['kind']> = {
  deployment: 'Deployment', deployments: 'Deployment', deploy: 'Deployment',
  configmap: 'ConfigMap', configmaps: 'ConfigMap', cm: 'ConfigMap',
  secret: 'Secret', secrets: 'Secret',
  job: 'Job', jobs: 'Job',
};

/** Resolves `deployment`, `deploy`, `cm`, ... as kubectl does; undefined for other kinds. */
export function resourceFor(name: string): ResourceInfo | undefined {
  const kind = ALIASES[name.toLowerCase()];
  return RESOURCES.find((r) => r.kind === kind);
}

export function objectPath(r: ResourceInfo, namespace: string, name: string): string {
  const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  return `${base}/namespaces/${encodeURIComponent(namespace)}/${r.plural}/${encodeURIComponent(name)}`;
}
