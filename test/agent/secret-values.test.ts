import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scrub, SecretValues } from '../../src/agent/secret-values.js';
import { KubeRest } from '../../src/kube/rest.js';
import { KubeApiServer } from '../support/kube-api-server.js';

// The notification credentials, read from rollguard's own namespace through the apiserver.

const VALUE = 'xoxb-F3-secret-values-canary-31337';
const b64 = (s: string): string => Buffer.from(s).toString('base64');

let server: KubeApiServer;
let clock = 0;

function reader(ttlMs = 60_000): SecretValues {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 't', server: server.url, skipTLSVerify: true }],
    users: [{ name: 't', token: 'agent-token' }],
    contexts: [{ name: 't', cluster: 't', user: 't' }],
    currentContext: 't',
  });
  return new SecretValues(new KubeRest(kc), 'rollguard', { ttlMs, clock: () => clock });
}

beforeEach(async () => {
  server = await new KubeApiServer().start();
  server.create('secrets', { metadata: { name: 'rollguard-slack', namespace: 'rollguard' }, data: { 'bot-token': b64(`${VALUE}\n`), empty: '' } });
  server.create('secrets', { metadata: { name: 'rollguard-slack', namespace: 'shop' }, data: { 'bot-token': b64('not-ours') } });
  clock = 0;
});
afterEach(async () => {
  await server.stop();
});

const secretGets = (): string[] => server.requests.filter((r) => r.url.includes('/secrets/')).map((r) => r.url);

describe('F3 the notification credentials', () => {
  it('are read from rollguard’s own namespace only, trimmed, and kept a short while', async () => {
    const secrets = reader(1000);
    const ref = { name: 'rollguard-slack', key: 'bot-token' };
    expect(await secrets.read(ref)).toBe(VALUE);
    await Promise.all([secrets.read(ref), secrets.read(ref)]);
    expect(secretGets()).toEqual(['/api/v1/namespaces/rollguard/secrets/rollguard-slack']);
    clock = 1500;
    await secrets.read(ref);
    expect(secretGets()).toHaveLength(2);
    expect(secrets.known()).toEqual([VALUE]);
  });

  it.each([
    ['a missing Secret', { name: 'nope', key: 'bot-token' }, 'cannot read key "bot-token" of Secret rollguard/nope: the Secret does not exist in rollguard\'s namespace'],
    ['a missing key', { name: 'rollguard-slack', key: 'signing-secret' }, 'cannot read key "signing-secret" of Secret rollguard/rollguard-slack: the Secret has no such key'],
    ['an empty value', { name: 'rollguard-slack', key: 'empty' }, 'cannot read key "empty" of Secret rollguard/rollguard-slack: the value is empty'],
  ])('%s: a precise error without any value', async (_name, ref, message) => {
    const err = await reader().read(ref).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(message);
    expect((err as Error).message).not.toContain(VALUE);
  });

  it('an unreachable apiserver: the error says so, without any value', async () => {
    const secrets = reader();
    await server.stop();
    const err = (await secrets.read({ name: 'rollguard-slack', key: 'bot-token' }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^cannot read key "bot-token" of Secret rollguard\/rollguard-slack: cannot reach the API server/);
    server = await new KubeApiServer().start();
  });

  it('scrub removes a value and its base64 form from text about to be logged', () => {
    expect(scrub(`a ${VALUE} b ${b64(VALUE)} c`, [VALUE])).toBe('a [redacted] b [redacted] c');
  });
});
