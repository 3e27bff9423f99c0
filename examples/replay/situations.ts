import type { Verdict } from '../../src/core/decision-types.js';
import type { AuditEvent } from '../../src/timeline/audit-event.js';
import { micro } from '../../test/fixtures/audit/builders.js';
import { controller, deployment, ev, job, KUBECTL, metadataPatch, MINUTE, rollout, setImage, steady, type App, type Ids, type Version, type Writer } from './cluster.js';
import { errorsFrom, flat, type ServiceTraffic } from './traffic.js';

// The seed's twelve situations (examples/incidents/*.json), each as its own Deployment in its own
// namespace of one example cluster, with the audit records and the traffic that make it: what
// `rollguard replay` reads. Every deploy states the verdict the SPEC requires and the words its
// decision must contain.

export const T = Date.parse('2026-03-02T08:00:00Z');
export const LOG_START = T - 60 * MINUTE;
export const LOG_END = T + 155 * MINUTE;

const ROLLOUT_MS = 4.5 * MINUTE;
const BASE = 0.003;
const BAD = 0.08;

export interface Expectation {
  situation: string;
  namespace: string;
  deployment: string;
  deployStart: number;
  verdict: Verdict;
  /** Text the decision (any field of its JSON line) must contain. */
  contains: string[];
  /**
   * Where `rollguard replay` does not give the SPEC's verdict yet: what it gives today and why.
   * Tests check that it still does, so a fix shows up as a failing test asking to remove this.
   */
}

export interface Situation {
  namespace: string;
  events: AuditEvent[];
  traffic: ServiceTraffic[];
  expect: Expectation[];
}

const CI: Writer = { user: 'system:serviceaccount:ci:deployer', userAgent: KUBECTL };
const ALICE: Writer = { user: 'alice@example.com', userAgent: KUBECTL };
const ARGO: Writer = { user: 'system:serviceaccount:argocd:argocd-application-controller', userAgent: 'argocd-controller/v2.11.3+2f2e7ac linux/amd64' };
const HELM: Writer = { user: 'system:serviceaccount:ci:deployer', userAgent: 'Helm/3.15.2' };
const AGENT: Writer = { user: 'system:serviceaccount:rollguard:rollguard-agent', userAgent: 'rollguard/0.1.0' };

const image = (app: App, tag: string) => `registry.example.com/${app.namespace}/${app.name}:${tag}`;
const latency = (median: number) => flat(median);

function service(namespace: string, name: string, rate: number, errorShare: (t: number) => number = flat(BASE), latencyMedian: (t: number) => number = latency(0.06)): ServiceTraffic {
  return { namespace, service: name, rate, errorShare, latencyMedian };
}

interface DeployOpts {
  app: App;
  from: Version;
  to: Version;
  generation: number;
  at: number;
  by?: Writer;
  request?: unknown;
}

/** The Deployment first seen whole (an annotation patch 40 minutes earlier), then the rollout. */
function deploy(ids: Ids, o: DeployOpts): AuditEvent[] {
  const oncall = o.app.annotations?.['example.com/oncall'] ?? `${o.app.namespace}-sre`;
  return [
    metadataPatch(ids, o.app, o.from, o.generation, o.at - 40 * MINUTE, ALICE, { 'example.com/oncall': oncall }),
    ...rollout(ids, { app: o.app, from: o.from, to: o.to, generation: o.generation, at: o.at, by: o.by ?? CI, request: o.request ?? setImage(o.to.image), durationMs: ROLLOUT_MS }),
  ];
}

function app(namespace: string, name: string, replicas: number, extra: Partial<App> = {}): App {
  return { namespace, name, replicas, ...extra, annotations: { 'example.com/oncall': `${namespace}-sre`, ...extra.annotations } };
}

function versions(a: App, from: string, to: string, revision: number, config: { from?: string; to?: string } = {}): [Version, Version] {
  return [
    { image: image(a, from), revision, ...(config.from !== undefined ? { configMap: config.from } : {}) },
    { image: image(a, to), revision: revision + 1, ...(config.to !== undefined ? { configMap: config.to } : {}) },
  ];
}

function expectation(situation: string, a: App, at: number, verdict: Verdict, contains: string[]): Expectation {
  return { situation, namespace: a.namespace, deployment: a.name, deployStart: at, verdict, contains };
}

type Builder = (ids: Ids) => Situation;

/** 01 and a quiet deploy: shop/checkout regresses after a new image only; shop/cart deploys without trouble. */
const clean: Builder = (ids) => {
  const at = T;
  const checkout = app('shop', 'checkout', 6);
  const cart = app('shop', 'cart', 4);
  const [c1, c2] = versions(checkout, '2.14.0', '2.15.0', 13);
  const [s1, s2] = versions(cart, '1.9.3', '1.9.4', 41);
  const warm = (status?: Record<string, unknown>) => job('cache-warmer-29541228', 'shop', 'registry.example.com/shop/cache-warmer:1.2.0', { command: ['node', 'scripts/warm-cache.js'], ...(status ? { status } : {}) });
  return {
    namespace: 'shop',
    events: [
      ...deploy(ids, { app: cart, from: s1, to: s2, generation: 52, at: at - 20 * MINUTE }),
      ev(ids, { verb: 'create', resource: 'jobs', namespace: 'shop', name: 'cache-warmer-29541228', at: at - 12 * MINUTE, ...controller('cronjob-controller'), requestObject: warm(), responseObject: warm() }),
      ev(ids, { verb: 'update', resource: 'jobs', subresource: 'status', namespace: 'shop', name: 'cache-warmer-29541228', at: at - 10 * MINUTE, ...controller('job-controller'), requestObject: warm({ succeeded: 1, completionTime: micro(at - 10 * MINUTE) }), responseObject: warm({ succeeded: 1, completionTime: micro(at - 10 * MINUTE) }) }),
      ...deploy(ids, { app: checkout, from: c1, to: c2, generation: 21, at }),
    ],
    traffic: [service('shop', 'checkout', 120, errorsFrom(at + 2 * MINUTE, BASE, BAD)), service('shop', 'cart', 80, flat(0.002)), service('shop', 'search', 60, flat(0.004))],
    expect: [
      expectation('01-clean-pod-spec-only', checkout, at, 'auto', ['kubectl rollout undo deployment/checkout -n shop --to-revision=13']),
      expectation('(a quiet deploy)', cart, at - 20 * MINUTE, 'none', ['no persistent regression']),
    ],
  };
};

/** 02: billing/invoices ships a new image with an in-place edit of the ConfigMap it reads. */
const configInPlace: Builder = (ids) => {
  const at = T + 10 * MINUTE;
  const invoices = app('billing', 'invoices', 4);
  const [v1, v2] = versions(invoices, '4.2.0', '4.3.0', 8, { from: 'invoices-config', to: 'invoices-config' });
  const cm = (data: Record<string, string>) => ({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'invoices-config', namespace: 'billing' }, data });
  const write = (when: number, data: Record<string, string>) => ev(ids, { verb: 'update', resource: 'configmaps', namespace: 'billing', name: 'invoices-config', at: when, level: 'Request', ...CI, requestObject: cm(data) });
  return {
    namespace: 'billing',
    events: [
      write(at - 65 * MINUTE, { TAX_SERVICE_URL: 'http://tax.billing:8080', RETRIES: '3', LOG_LEVEL: 'info' }),
      write(at - 80_000, { TAX_SERVICE_URL: 'http://tax-v2.billing:8080', RETRIES: '5', LOG_LEVEL: 'info' }),
      ...deploy(ids, { app: invoices, from: v1, to: v2, generation: 9, at }),
    ],
    traffic: [service('billing', 'invoices', 40, errorsFrom(at + 2 * MINUTE, BASE, BAD)), service('billing', 'billing-api', 90, flat(0.002))],
    expect: [expectation('02-configmap-changed-in-place', invoices, at, 'suggest', ['ConfigMap invoices-config', 'was changed in place'])],
  };
};

/** 03: a rails db:migrate Job ran in accounts 20 minutes before accounts/users was deployed (policy mode auto). */
const migration: Builder = (ids) => {
  const at = T + 20 * MINUTE;
  const users = app('accounts', 'users', 5);
  const [v1, v2] = versions(users, '3.1.4', '3.2.0', 27);
  const name = 'users-db-migrate-3-2-0';
  const migrate = (status?: Record<string, unknown>) => job(name, 'accounts', image(users, '3.2.0'), { command: ['bundle', 'exec', 'rails', 'db:migrate'], ...(status ? { status } : {}) });
  const done = migrate({ startTime: micro(at - 20 * MINUTE), succeeded: 1, completionTime: micro(at - 18 * MINUTE - 50_000) });
  return {
    namespace: 'accounts',
    events: [
      ev(ids, { verb: 'create', resource: 'jobs', namespace: 'accounts', name, at: at - 20 * MINUTE, ...CI, requestObject: migrate(), responseObject: migrate() }),
      ev(ids, { verb: 'update', resource: 'jobs', subresource: 'status', namespace: 'accounts', name, at: at - 18 * MINUTE - 50_000, ...controller('job-controller'), requestObject: done, responseObject: done }),
      ...deploy(ids, { app: users, from: v1, to: v2, generation: 30, at }),
    ],
    traffic: [service('accounts', 'users', 70, errorsFrom(at + 2 * MINUTE, BASE, BAD)), service('accounts', 'sessions', 150, flat(0.001))],
    expect: [expectation('03-migration-20-min-before', users, at, 'suggest', [name, 'looks like a migration'])],
  };
};

/** 04: payments/gateway is deployed, and payments/ledger, which it calls, starts failing. */
const otherService: Builder = (ids) => {
  const at = T + 30 * MINUTE;
  const gateway = app('payments', 'gateway', 4);
  const [v1, v2] = versions(gateway, '7.3.1', '7.4.0', 55);
  return {
    namespace: 'payments',
    events: deploy(ids, { app: gateway, from: v1, to: v2, generation: 61, at }),
    traffic: [service('payments', 'gateway', 110, flat(0.002)), service('payments', 'ledger', 50, errorsFrom(at + 2 * MINUTE, 0.002, BAD))],
    expect: [expectation('04-regression-in-another-service', gateway, at, 'suggest', ['ledger'])],
  };
};

/** 05: search/query's p99 triples after the deploy; its 5xx share stays flat. */
const latencyOnly: Builder = (ids) => {
  const at = T + 40 * MINUTE;
  const query = app('search', 'query', 8);
  const [v1, v2] = versions(query, '12.0.2', '12.1.0', 90);
  return {
    namespace: 'search',
    events: deploy(ids, { app: query, from: v1, to: v2, generation: 95, at }),
    traffic: [service('search', 'query', 200, flat(BASE), (t) => (t >= at + 3 * MINUTE ? 0.18 : 0.06)), service('search', 'indexer', 30, flat(0.004))],
    expect: [expectation('05-latency-only', query, at, 'suggest', ['latency regressed without an error-rate rise'])],
  };
};

/** 06: catalog/catalog-api's error rate rises 25 minutes after its rollout completed. */
const lateOnset: Builder = (ids) => {
  const at = T + 50 * MINUTE;
  const api = app('catalog', 'catalog-api', 4);
  const [v1, v2] = versions(api, '5.6.0', '5.7.0', 33);
  return {
    namespace: 'catalog',
    events: deploy(ids, { app: api, from: v1, to: v2, generation: 40, at }),
    traffic: [service('catalog', 'catalog-api', 90, errorsFrom(at + ROLLOUT_MS + 25 * MINUTE, BASE, BAD)), service('catalog', 'catalog-images', 140, flat(0.001))],
    expect: [expectation('06-onset-25-min-after-completion', api, at, 'suggest', ['after the rollout completed'])],
  };
};

/** 07: inventory/stock's 5xx were already up 20 minutes before its deploy. */
const predates: Builder = (ids) => {
  const at = T + 60 * MINUTE;
  const stock = app('inventory', 'stock', 3);
  const [v1, v2] = versions(stock, '2.2.9', '2.3.0', 71);
  return {
    namespace: 'inventory',
    events: deploy(ids, { app: stock, from: v1, to: v2, generation: 77, at }),
    traffic: [service('inventory', 'stock', 60, errorsFrom(at - 20 * MINUTE, BASE, BAD)), service('inventory', 'reservations', 35, flat(0.002))],
    expect: [expectation('07-regression-predates-deploy', stock, at, 'suggest', ['predates the deploy'])],
  };
};

/** 08: shipping/rates switches to a newly created, hash-suffixed ConfigMap; the old one is untouched. */
const hashSuffixed: Builder = (ids) => {
  const at = T + 70 * MINUTE;
  const rates = app('shipping', 'rates', 3);
  const [v1, v2] = versions(rates, '1.12.0', '1.13.0', 19, { from: 'rates-config-5d7f9c', to: 'rates-config-7f8d41' });
  const cm = { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'rates-config-7f8d41', namespace: 'shipping', labels: { 'app.kubernetes.io/name': 'rates' } }, data: { CARRIERS: 'dhl,ups,fedex', QUOTE_TIMEOUT_MS: '800' } };
  const template = (deployment(rates, v2, 0, 0, steady(3, 0)).spec as { template: unknown }).template;
  return {
    namespace: 'shipping',
    events: [
      ev(ids, { verb: 'create', resource: 'configmaps', namespace: 'shipping', name: 'rates-config-7f8d41', at: at - 10_000, level: 'Request', ...CI, requestObject: cm }),
      ...deploy(ids, { app: rates, from: v1, to: v2, generation: 23, at, request: { spec: { template } } }),
    ],
    traffic: [service('shipping', 'rates', 45, errorsFrom(at + 2 * MINUTE, BASE, BAD)), service('shipping', 'labels', 20, flat(0.003))],
    expect: [expectation('08-hash-suffixed-configmap', rates, at, 'auto', ['rates-config-7f8d41 was newly created'])],
  };
};

/** 09: notifications/mailer keeps no revision history (revisionHistoryLimit 0): nothing to roll back to. */
const noPrevious: Builder = (ids) => {
  const at = T + 80 * MINUTE;
  const mailer = app('notifications', 'mailer', 2, { revisionHistoryLimit: 0 });
  const [v1, v2] = versions(mailer, '0.9.7', '0.9.8', 12);
  return {
    namespace: 'notifications',
    events: [
      ...deploy(ids, { app: mailer, from: v1, to: v2, generation: 14, at }),
      // With revisionHistoryLimit 0 the controller deletes the old ReplicaSet once the rollout completes.
      ev(ids, { verb: 'delete', resource: 'replicasets', namespace: 'notifications', name: 'mailer-5c9d7b8f4d', at: at + ROLLOUT_MS + 2_000, level: 'Metadata', ...controller('deployment-controller') }),
    ],
    traffic: [service('notifications', 'mailer', 25, errorsFrom(at + 2 * MINUTE, BASE, BAD)), service('notifications', 'push', 40, flat(0.002))],
    expect: [expectation('09-no-previous-revision', mailer, at, 'suggest', ['no previous revision'])],
  };
};

/**
 * 10: storefront/web regresses (auto), rollguard rolls it back with a rollout undo, and four
 * minutes later a fix-forward deploy regresses again: inside the 10-minute blackout (none).
 */
const blackout: Builder = (ids) => {
  const at = T + 90 * MINUTE;
  const web = app('storefront', 'web', 6);
  const [v1, v2] = versions(web, '5.0.0', '5.1.0', 30);
  const rollbackAt = at + 4 * MINUTE;
  const fixAt = rollbackAt + 4 * MINUTE;
  const restored: Version = { ...v1, revision: 32 };
  const v3: Version = { image: image(web, '5.1.1'), revision: 33 };
  const undoTemplate = (deployment(web, v1, 0, 0, steady(6, 0)).spec as { template: unknown }).template;
  const undo = [
    { op: 'replace', path: '/spec/template', value: undoTemplate },
    { op: 'replace', path: '/metadata/annotations', value: { 'deployment.kubernetes.io/revision': '31', 'example.com/oncall': 'storefront-sre' } },
  ];
  return {
    namespace: 'storefront',
    events: [
      ...deploy(ids, { app: web, from: v1, to: v2, generation: 44, at }),
      ...rollout(ids, { app: web, from: v2, to: restored, generation: 45, at: rollbackAt, by: AGENT, request: undo, durationMs: 2 * MINUTE }),
      ...rollout(ids, { app: web, from: restored, to: v3, generation: 46, at: fixAt, by: ALICE, request: setImage(v3.image), durationMs: ROLLOUT_MS }),
    ],
    traffic: [
      service('storefront', 'web', 250, (t) => (t >= fixAt + 45_000 ? 0.2 : t >= at + 2 * MINUTE && t < rollbackAt + 45_000 ? BAD : BASE)),
      service('storefront', 'assets', 300, flat(0.001)),
    ],
    expect: [
      expectation('10-inside-blackout (the regressing deploy)', web, at, 'auto', ['--to-revision=30']),
      expectation('10-inside-blackout (the rollback)', web, rollbackAt, 'none', ['blackout']),
      expectation('10-inside-blackout', web, fixAt, 'none', ['blackout']),
    ],
  };
};

/** 11: reviews/reviews is synced by the Argo CD application reviews-prod (auto-sync). */
const argocd: Builder = (ids) => {
  const at = T + 100 * MINUTE;
  const reviews = app('reviews', 'reviews', 3, {
    labels: { 'app.kubernetes.io/instance': 'reviews-prod' },
    annotations: { 'argocd.argoproj.io/tracking-id': 'reviews-prod:apps/Deployment:reviews/reviews' },
  });
  const [v1, v2] = versions(reviews, '3.3.0', '3.4.0', 64);
  return {
    namespace: 'reviews',
    events: deploy(ids, { app: reviews, from: v1, to: v2, generation: 70, at, by: ARGO }),
    traffic: [service('reviews', 'reviews', 35, errorsFrom(at + 2 * MINUTE, BASE, BAD)), service('reviews', 'moderation', 12, flat(0.003))],
    expect: [expectation('11-argocd-managed', reviews, at, 'suggest', ['Argo CD application reviews-prod'])],
  };
};

/** 12: pricing/pricing is installed by the Helm release pricing; helm upgrade ships the bad image. */
const helm: Builder = (ids) => {
  const at = T + 110 * MINUTE;
  const pricing = app('pricing', 'pricing', 4, {
    labels: { 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/instance': 'pricing', 'helm.sh/chart': 'pricing-1.8.0' },
    annotations: { 'meta.helm.sh/release-name': 'pricing', 'meta.helm.sh/release-namespace': 'pricing' },
  });
  const [v1, v2] = versions(pricing, '1.7.2', '1.8.0', 7);
  return {
    namespace: 'pricing',
    events: [
      // Helm keeps each release revision in a Secret (Metadata level: no body).
      ev(ids, { verb: 'create', resource: 'secrets', namespace: 'pricing', name: 'sh.helm.release.v1.pricing.v8', at: at - 2_000, level: 'Metadata', ...HELM }),
      ...deploy(ids, { app: pricing, from: v1, to: v2, generation: 8, at, by: HELM }),
      ev(ids, { verb: 'update', resource: 'secrets', namespace: 'pricing', name: 'sh.helm.release.v1.pricing.v7', at: at + 1_500, level: 'Metadata', ...HELM }),
    ],
    traffic: [service('pricing', 'pricing', 80, errorsFrom(at + 2 * MINUTE, BASE, BAD)), service('pricing', 'promotions', 55, flat(0.002))],
    expect: [expectation('12-helm-managed', pricing, at, 'auto', ['helm rollback is the durable route'])],
  };
};

export const SITUATIONS: readonly Builder[] = [clean, configInPlace, migration, otherService, latencyOnly, lateOnset, predates, hashSuffixed, noPrevious, blackout, argocd, helm];
