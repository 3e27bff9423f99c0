import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runCliAsync } from '../support/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rollguard-manifests-'));
const ca = join(dir, 'ca.crt');
writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----\n');

type Doc = { kind: string; webhooks: { clientConfig: { url?: string; service?: unknown }; namespaceSelector: { matchExpressions: { values: string[] }[] } }[] };

describe('F2 rollguard manifests --url', () => {
  it('prints both configurations pointing at the URL, rollguard namespace excluded by default', async () => {
    const r = await runCliAsync(['manifests', '--url', 'https://127.0.0.1:9443', '--ca-bundle', ca]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Doc);
    expect(docs.map((d) => [d.kind, d.webhooks[0]?.clientConfig.url, d.webhooks[0]?.clientConfig.service])).toEqual([
      ['MutatingWebhookConfiguration', 'https://127.0.0.1:9443/mutate', undefined],
      ['ValidatingWebhookConfiguration', 'https://127.0.0.1:9443/validate', undefined],
    ]);
    expect(docs[0]?.webhooks[0]?.namespaceSelector.matchExpressions[0]?.values).toEqual(['kube-system', 'rollguard']);
  });
});

describe('F5 rollguard manifests explains a missing or doubled target', () => {
  it.each([
    ['neither', ['--namespace', 'rollguard']],
    ['both', ['--namespace', 'rollguard', '--service', 'rollguard-webhook', '--url', 'https://127.0.0.1:9443']],
  ])('%s --url/--service: exit 2 and the rule', async (_label, args) => {
    const r = await runCliAsync(['manifests', ...args, '--ca-bundle', ca]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^rollguard manifests: give exactly one of --url or --service/);
    expect(r.stdout).toBe('');
  });

  it('--service without --namespace: exit 2, the Service needs its namespace', async () => {
    const r = await runCliAsync(['manifests', '--service', 'rollguard-webhook', '--ca-bundle', ca]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--service needs --namespace/);
  });
});
