import { createHelm, unpackedHelmBinary } from '../test/chart/helm.js';

// The benchmarks run rollguard as the chart does: with the NODE_OPTIONS (V8 heap sizes) the chart
// renders for the container from its default resources.

type Container = { name: string; env?: { name: string; value?: string }[]; resources?: { limits?: { memory?: string } } };

export interface ChartContainer {
  nodeOptions: string;
  memoryLimit: string | undefined;
}

export async function chartContainer(name: 'agent' | 'webhook'): Promise<ChartContainer> {
  const helm = await createHelm(await unpackedHelmBinary());
  const objects = await helm.template({ agent: { prometheus: { url: 'http://prometheus.monitoring.svc:9090' } } });
  for (const o of objects) {
    if (o.kind !== 'Deployment') continue;
    const containers = (o as unknown as { spec: { template: { spec: { containers: Container[] } } } }).spec.template.spec.containers;
    const c = containers.find((x) => x.name === name);
    if (c === undefined) continue;
    return { nodeOptions: c.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '', memoryLimit: c.resources?.limits?.memory };
  }
  throw new Error(`the chart renders no ${name} container`);
}
