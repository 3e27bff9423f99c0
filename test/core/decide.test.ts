import { describe, expect, it } from 'vitest';
import { trafficShareOf } from '../../src/core/blast-radius.js';
import { decide } from '../../src/core/decide.js';
import type { DecisionInput } from '../../src/core/decision-types.js';
import { DEFAULT_POLICY, type Policy } from '../../src/core/policy.js';
import { configChange, deployment, job, jobRun, min, T0, withConfig } from '../support/builders.js';
import { cleanInput, errorRegression, errorRegressionWith } from '../support/scenario.js';

const policy = (p: Partial<Policy>): Policy => ({ ...DEFAULT_POLICY, ...p });
const withDeploy = (d: Partial<DecisionInput['deploy']>): Partial<DecisionInput> => ({ deploy: { ...cleanInput().deploy, ...d } });

describe('R6 verdict for a clean incident', () => {
  it('is auto with every condition met, the exact command and a high confidence', () => {
    const d = decide(cleanInput());
    expect(d.verdict).toBe('auto');
    for (const c of Object.values(d.conditions)) expect(c.status).toBe('met');
    expect(d.command).toBe('kubectl rollout undo deployment/checkout -n shop --to-revision=6');
    expect(d.confidence).toBeGreaterThan(0.9);
    expect(d.confidence).toBeLessThanOrEqual(1);
    expect(d.summary).toMatch(/^auto: /);
  });
});

describe('R1 window', () => {
  it.each([
    ['at the deploy start', T0, 'met'],
    ['during the rollout', min(4), 'met'],
    ['exactly 15 min after completion', min(20), 'met'],
    ['15 min and 1 s after completion', min(20) + 1000, 'unmet'],
    ['25 min after completion', min(30), 'unmet'],
    ['1 s before the deploy started', T0 - 1000, 'unmet'],
    ['an hour before the deploy', min(-60), 'unmet'],
  ] as const)('onset %s is %s', (_label, onset, status) => {
    const d = decide(cleanInput({ regression: errorRegression({ onset }), now: min(35) }));
    expect(d.conditions.window.status).toBe(status);
    expect(d.verdict).toBe(status === 'met' ? 'auto' : 'suggest');
  });

  it('says the regression predates the deploy', () => {
    const d = decide(cleanInput({ regression: errorRegression({ onset: min(-20) }) }));
    expect(d.conditions.window.evidence).toMatch(/predates the deploy/);
  });

  it('is unknown when the onset uncertainty straddles the deploy start or the window end', () => {
    expect(decide(cleanInput({ regression: errorRegression({ onset: min(-1), onsetUncertaintyMs: 120_000 }) })).conditions.window.status).toBe('unknown');
    expect(decide(cleanInput({ regression: errorRegression({ onset: min(21), onsetUncertaintyMs: 120_000 }), now: min(30) })).conditions.window.status).toBe('unknown');
  });

  it('is met while the rollout is still progressing and the onset follows the start', () => {
    expect(decide(cleanInput(withDeploy({ rollout: { state: 'progressing' } }))).conditions.window.status).toBe('met');
  });

  it('with an unknown completion: met within 15 min of the start, unknown later', () => {
    expect(decide(cleanInput(withDeploy({ rollout: { state: 'unknown' } }))).conditions.window.status).toBe('met');
    const late = decide(cleanInput({ ...withDeploy({ rollout: { state: 'unknown' } }), regression: errorRegression({ onset: min(18) }), now: min(25) }));
    expect(late.conditions.window.status).toBe('unknown');
  });

  it('honours a policy window', () => {
    const d = decide(cleanInput({ regression: errorRegression({ onset: min(30) }), now: min(35), policy: policy({ onsetWindowMs: 30 * 60_000 }) }));
    expect(d.conditions.window.status).toBe('met');
  });
});

describe('R2 same service', () => {
  it('is unmet for a regression in another service, naming it as evidence for the human', () => {
    const d = decide(cleanInput({ regression: errorRegression({ service: 'payments' }) }));
    expect(d.conditions.sameService.status).toBe('unmet');
    expect(d.conditions.sameService.evidence).toMatch(/shop\/payments, not in the deployed service shop\/checkout/);
    expect(d.verdict).toBe('suggest');
    expect(d.notes.join('\n')).toMatch(/payments regressed after the deploy of checkout/);
  });

  it('uses the policy service label, else the Deployment name', () => {
    const labelled = deployment({ labels: { team: 'x', 'app.kubernetes.io/name': 'storefront' } });
    expect(decide(cleanInput({ current: labelled })).conditions.sameService.status).toBe('unmet');
    expect(decide(cleanInput({ current: labelled, regression: errorRegression({ service: 'storefront' }) })).conditions.sameService.status).toBe('met');
    const unlabelled = deployment({ labels: {} });
    expect(decide(cleanInput({ current: unlabelled })).service).toBe('checkout');
    const custom = deployment({ labels: { 'app': 'co' } });
    expect(decide(cleanInput({ current: custom, policy: policy({ serviceLabel: 'app' }), regression: errorRegression({ service: 'co' }) })).verdict).toBe('auto');
  });

  it('is unmet when most of the namespace regressed at once', () => {
    const neighbours = ['cart', 'search', 'users'].map((service) => errorRegression({ service }));
    const d = decide(cleanInput({ neighbours: [...neighbours, errorRegression({ service: 'ads', signal: undefined })] }));
    expect(d.conditions.sameService.status).toBe('unmet');
    expect(d.conditions.sameService.evidence).toMatch(/everything regressed at once/);
  });

  it('stays met when one neighbour of many regressed, and mentions it', () => {
    const healthy = ['a', 'b', 'c'].map((service) => errorRegression({ service, signal: undefined }));
    const d = decide(cleanInput({ neighbours: [...healthy, errorRegression({ service: 'cart' })] }));
    expect(d.conditions.sameService.status).toBe('met');
    expect(d.conditions.sameService.evidence).toMatch(/also regressing: cart/);
  });

  it.each([
    [1, '1 other service checked is healthy'],
    [3, '3 other services checked are healthy'],
  ])('counts %d healthy neighbour(s) in words', (n, words) => {
    const healthy = ['a', 'b', 'c'].slice(0, n).map((service) => errorRegression({ service, signal: undefined }));
    expect(decide(cleanInput({ neighbours: healthy })).conditions.sameService.evidence).toMatch(new RegExp(`; ${words}$`));
  });
});

describe('R3 pod-spec-only in the verdict', () => {
  it('a ConfigMap changed in place with the deploy gives suggest', () => {
    const d = decide(cleanInput({ events: [configChange({ name: 'app-config', at: min(-2) })] }));
    expect(d.conditions.podSpecOnly.status).toBe('unmet');
    expect(d.verdict).toBe('suggest');
  });

  it('a switch to a new hash-suffixed ConfigMap stays auto', () => {
    const before = deployment({ image: 'checkout:1.4.0', pod: withConfig('app-config-5c2a') });
    const after = deployment({ image: 'checkout:1.5.0', pod: withConfig('app-config-7f8d') });
    const d = decide(cleanInput({ ...withDeploy({ before, after }), current: after, events: [configChange({ name: 'app-config-7f8d', action: 'create', at: min(-1) })] }));
    expect(d.verdict).toBe('auto');
  });
});

describe('R4 migration guard', () => {
  const migration = jobRun('checkout-db-migrate', min(-20), min(-18));

  it('a migration Job 20 min before the deploy gives suggest, even with policy mode auto', () => {
    const d = decide(cleanInput({ events: [migration], policy: policy({ mode: 'auto', gitops: 'auto' }) }));
    expect(d.conditions.migration.status).toBe('unmet');
    expect(d.conditions.migration.evidence).toMatch(/checkout-db-migrate .*name "checkout-db-migrate"/);
    expect(d.verdict).toBe('suggest');
  });

  it.each([
    ['ended exactly 30 min before the start', jobRun('migrate', min(-40), min(-30)), 'unmet'],
    ['ended 31 min before the start', jobRun('migrate', min(-40), min(-31)), 'met'],
    ['started exactly 30 min after completion', jobRun('migrate', min(35), min(36)), 'unmet'],
    ['still running from long before', jobRun('migrate', min(-120), undefined), 'unmet'],
    ['in another namespace', { ...jobRun('migrate', min(-5), min(-4)), namespace: 'other' }, 'met'],
    ['not a migration', jobRun('nightly-report', min(-5), min(-4), job('nightly-report', { image: 'report:1' })), 'met'],
  ] as const)('a Job that %s: %s', (_label, run, status) => {
    expect(decide(cleanInput({ events: [run], now: min(40) })).conditions.migration.status).toBe(status);
  });

  it('ignores a Job that starts after the evaluation time (no hindsight)', () => {
    expect(decide(cleanInput({ events: [jobRun('migrate', min(13), min(14))], now: min(12) })).conditions.migration.status).toBe('met');
  });

  it('is unknown when rollguard cannot see all Jobs', () => {
    expect(decide(cleanInput({ coverage: { config: true, jobs: false } })).conditions.migration.status).toBe('unknown');
  });

  it('R4: the evidence names why the Jobs are (not) all seen, when the producer says', () => {
    const dropped = { known: false, evidence: 'the audit policy leaves some Job writes in shop out of the log (rule 2)' };
    const unknown = decide(cleanInput({ coverage: { config: true, jobs: dropped } })).conditions.migration;
    expect(unknown).toEqual({ status: 'unknown', evidence: `${dropped.evidence}, so a migration cannot be ruled out` });
    const logged = { known: true, evidence: 'the audit policy logs every Job write in shop at RequestResponse (rule 3)' };
    const met = decide(cleanInput({ coverage: { config: true, jobs: logged } }));
    expect(met.conditions.migration.status).toBe('met');
    expect(met.conditions.migration.evidence).toMatch(/^no migration Job ran in the window .*; the audit policy logs every Job write in shop at RequestResponse \(rule 3\)$/);
    expect(met.verdict).toBe('auto');
  });
});

describe('R5 clean signal', () => {
  it('latency alone asks a human', () => {
    const d = decide(
      cleanInput({ regression: errorRegression({ signal: 'latency', errorRate: undefined, latency: { baselineP99: 0.2, currentP99: 0.9, pValue: 1e-9, persisted: 3 } }) }),
    );
    expect(d.conditions.cleanSignal.status).toBe('unmet');
    expect(d.conditions.cleanSignal.evidence).toMatch(/latency regressed without an error-rate rise/);
    expect(d.verdict).toBe('suggest');
  });

  it('error rate plus latency is a clean signal', () => {
    expect(decide(cleanInput({ regression: errorRegression({ signal: 'both' }) })).verdict).toBe('auto');
  });

  it('no data is not a regression', () => {
    const d = decide(cleanInput({ regression: errorRegression({ data: 'no-data', signal: undefined, errorRate: undefined }) }));
    expect(d.conditions.cleanSignal.status).toBe('unknown');
    expect(d.verdict).toBe('none');
  });

  it.each([
    ['below the threshold', { current: 0.015 }, 'unmet'],
    ['not significant', { pValue: 0.2 }, 'unmet'],
    ['too little traffic', { currentRequests: 40 }, 'unknown'],
  ] as const)('an error-rate rise %s is %s', (_label, e, status) => {
    const d = decide(cleanInput({ regression: errorRegressionWith(e) }));
    expect(d.conditions.cleanSignal.status).toBe(status);
    expect(d.verdict).toBe('suggest');
  });

  it('one noisy sample is not a regression: none until it persists', () => {
    const d = decide(cleanInput({ regression: errorRegressionWith({ persisted: 1 }) }));
    expect(d.verdict).toBe('none');
  });
});

describe('R6 permission conditions', () => {
  it('no previous revision left gives suggest without a command', () => {
    const d = decide(cleanInput({ revision: { current: 1, previous: null } }));
    expect(d.conditions.revision.status).toBe('unmet');
    expect(d.command).toBeUndefined();
    expect(d.verdict).toBe('suggest');
  });

  it('an unknown revision history is unknown, not auto', () => {
    expect(decide(cleanInput({ revision: { current: undefined, previous: undefined } })).verdict).toBe('suggest');
  });

  it('a paused Deployment gives suggest', () => {
    expect(decide(cleanInput({ current: deployment({ paused: true, image: 'checkout:1.5.0' }) })).conditions.paused.status).toBe('unmet');
  });

  it.each([
    ['suggest', 'suggest'],
    ['off', 'none'],
  ] as const)('policy mode %s gives %s', (mode, verdict) => {
    expect(decide(cleanInput({ policy: policy({ mode }) })).verdict).toBe(verdict);
  });
});

describe('R8 blackout', () => {
  it('inside a blackout the verdict is none and says until when', () => {
    const d = decide(cleanInput({ blackoutUntil: min(15) }));
    expect(d.verdict).toBe('none');
    expect(d.summary).toMatch(/blackout until 2026-03-02T10:15:00Z/);
  });

  it('an expired blackout does not block', () => {
    expect(decide(cleanInput({ blackoutUntil: min(12) })).verdict).toBe('auto');
  });
});

describe('R13 GitOps ownership', () => {
  it('an Argo CD-managed Deployment gets suggest naming the application and the owner-native route', () => {
    const current = deployment({ image: 'checkout:1.5.0', annotations: { 'argocd.argoproj.io/tracking-id': 'shop-checkout:apps/Deployment:shop/checkout' } });
    const d = decide(cleanInput({ current }));
    expect(d.verdict).toBe('suggest');
    expect(d.conditions.ownership.evidence).toMatch(/Argo CD application shop-checkout/);
    expect(d.notes.join('\n')).toMatch(/argocd app rollback shop-checkout/);
  });

  it('R13 an Argo CD-owned Deployment: the command is the owner-native route (auto-sync off, argocd app rollback), the plain undo a note saying Argo CD reverts it', () => {
    const current = deployment({ image: 'checkout:1.5.0', annotations: { 'argocd.argoproj.io/tracking-id': 'shop-checkout:apps/Deployment:shop/checkout' } });
    const d = decide(cleanInput({ current }));
    expect(d.command).toBe('argocd app set shop-checkout --sync-policy none && argocd app rollback shop-checkout');
    expect(d.notes).toContain('a plain kubectl rollout undo deployment/checkout -n shop --to-revision=6 is not the way back: Argo CD puts it back within seconds while it reconciles');
  });

  it('R13 an Argo CD application in another namespace ("ns_app" in the tracking id) is named ns/app in the command', () => {
    const current = deployment({ image: 'checkout:1.5.0', annotations: { 'argocd.argoproj.io/tracking-id': 'argocd-apps_checkout:apps/Deployment:shop/checkout' } });
    expect(decide(cleanInput({ current })).command).toBe('argocd app set argocd-apps/checkout --sync-policy none && argocd app rollback argocd-apps/checkout');
  });

  it('R13 a Flux Kustomization: the command suspends it, then undoes; the plain undo alone is the note', () => {
    const current = deployment({ image: 'checkout:1.5.0', labels: { 'app.kubernetes.io/name': 'checkout', 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' } });
    const d = decide(cleanInput({ current }));
    expect(d.command).toBe('flux suspend kustomization apps -n flux-system && kubectl rollout undo deployment/checkout -n shop --to-revision=6');
    expect(d.notes.join('\n')).toMatch(/a plain kubectl rollout undo deployment\/checkout -n shop --to-revision=6 is not the way back: Flux puts it back/);
  });

  it('R13 without a previous revision there is no command, owner or not', () => {
    const current = deployment({ image: 'checkout:1.5.0', labels: { 'app.kubernetes.io/name': 'checkout', 'argocd.argoproj.io/instance': 'checkout' } });
    expect(decide(cleanInput({ current, revision: { current: 7, previous: null } })).command).toBeUndefined();
  });

  it('a Flux Kustomization-managed Deployment gets suggest with suspend, undo and revert', () => {
    const current = deployment({ image: 'checkout:1.5.0', labels: { 'app.kubernetes.io/name': 'checkout', 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' } });
    const d = decide(cleanInput({ current }));
    expect(d.verdict).toBe('suggest');
    expect(d.owner.route[0]).toBe('flux suspend kustomization apps -n flux-system');
    expect(d.owner.route[1]).toBe('kubectl rollout undo deployment/checkout -n shop --to-revision=6');
  });

  it('policy gitops auto lets a GitOps-owned Deployment be rolled back automatically', () => {
    const current = deployment({ image: 'checkout:1.5.0', labels: { 'app.kubernetes.io/name': 'checkout', 'argocd.argoproj.io/instance': 'checkout' } });
    const d = decide(cleanInput({ current, policy: policy({ gitops: 'auto' }) }));
    expect(d.verdict).toBe('auto');
    // What rollguard does itself is the plain undo, and the command says so.
    expect(d.command).toBe('kubectl rollout undo deployment/checkout -n shop --to-revision=6');
    expect(d.notes.join('\n')).not.toMatch(/is not the way back/);
  });

  it('a Helm-managed Deployment may be auto, with the helm rollback note', () => {
    const current = deployment({
      image: 'checkout:1.5.0',
      labels: { 'app.kubernetes.io/name': 'checkout', 'app.kubernetes.io/managed-by': 'Helm' },
      annotations: { 'meta.helm.sh/release-name': 'shop', 'meta.helm.sh/release-namespace': 'shop' },
    });
    const d = decide(cleanInput({ current }));
    expect(d.verdict).toBe('auto');
    expect(d.command).toBe('kubectl rollout undo deployment/checkout -n shop --to-revision=6');
    expect(d.notes.join('\n')).toMatch(/next helm upgrade of shop brings the change back: helm rollback is the durable route/);
  });
});

describe('R10 blast radius', () => {
  it('lists replicas, traffic share and other workloads sharing the config', () => {
    const d = decide(
      cleanInput({
        workloads: [
          { kind: 'Deployment', namespace: 'shop', name: 'checkout-worker', template: deployment({ pod: withConfig('app-config') }).spec?.template },
          { kind: 'CronJob', namespace: 'shop', name: 'reports', template: deployment({ pod: withConfig('other') }).spec?.template },
          { kind: 'Deployment', namespace: 'shop', name: 'checkout', template: deployment({ pod: withConfig('app-config') }).spec?.template },
        ],
      }),
    );
    expect(d.blastRadius).toMatchObject({ replicas: 6, trafficShare: 0.25, partial: false });
    expect(d.blastRadius.sharedConfig).toEqual([{ kind: 'Deployment', name: 'checkout-worker', via: ['ConfigMap app-config'] }]);
  });

  it('marks a rollout that had not finished as partial', () => {
    expect(decide(cleanInput(withDeploy({ rollout: { state: 'progressing' } }))).blastRadius.partial).toBe(true);
  });
});

describe('R6 confidence', () => {
  it('ranks a clean incident above one with a failing condition, and a predating onset lowest', () => {
    const clean = decide(cleanInput()).confidence;
    const mixed = decide(cleanInput({ events: [configChange({ name: 'app-config' })] })).confidence;
    const late = decide(cleanInput({ regression: errorRegression({ onset: min(30) }), now: min(35) })).confidence;
    const predates = decide(cleanInput({ regression: errorRegression({ onset: min(-30) }) })).confidence;
    expect(clean).toBeGreaterThan(mixed);
    expect(mixed).toBeGreaterThan(predates);
    expect(late).toBeGreaterThan(predates);
    expect(predates).toBeLessThan(0.1);
  });

  it('is 0 without a regression', () => {
    expect(decide(cleanInput({ regression: undefined })).confidence).toBe(0);
  });
});

describe('R13 Flux HelmRelease ownership', () => {
  it('names the HelmRelease and routes through suspend, helm rollback and revert', () => {
    const current = deployment({ image: 'checkout:1.5.0', labels: { 'app.kubernetes.io/name': 'checkout', 'helm.toolkit.fluxcd.io/name': 'checkout', 'helm.toolkit.fluxcd.io/namespace': 'flux-system' } });
    const d = decide(cleanInput({ current }));
    expect(d.verdict).toBe('suggest');
    expect(d.owner).toMatchObject({ kind: 'flux', name: 'helmrelease/checkout', namespace: 'flux-system', reconciles: true });
    expect(d.owner.route).toEqual([
      'flux suspend helmrelease checkout -n flux-system',
      'helm rollback checkout -n shop',
      'revert the change in Git, then flux resume helmrelease checkout -n flux-system',
    ]);
    expect(d.command).toBe('flux suspend helmrelease checkout -n flux-system && helm rollback checkout -n shop');
  });
});

describe('R5 evidence reads as a person would write it', () => {
  it('writes a p-value that underflowed to 0 as below the smallest double, not as p=0.0', () => {
    const d = decide(cleanInput({ regression: errorRegressionWith({ pValue: 0 }) }));
    expect(d.conditions.cleanSignal.evidence).toContain('p<1e-300 against the baseline');
    expect(decide(cleanInput()).conditions.cleanSignal.evidence).toContain('p=1.0e-20 against the baseline');
  });
});

describe('F1 doubts from the producer never lead to auto', () => {
  it('a clean incident with a doubt is suggest, and the doubt is named', () => {
    const d = decide(cleanInput({ doubts: ['the ConfigMap/Secret cache has not synced'] }));
    expect(d.verdict).toBe('suggest');
    expect(d.summary).toMatch(/unsure: the ConfigMap\/Secret cache has not synced/);
    expect(d.notes).toContain('rollguard is unsure (F1): the ConfigMap/Secret cache has not synced');
  });

  it('a doubt does not invent a regression: nothing to act on stays none', () => {
    expect(decide(cleanInput({ doubts: ['x'], regression: undefined })).verdict).toBe('none');
  });
});

describe('R3 the change set admission saw', () => {
  it('a mixed change seen only at admission keeps the deploy from auto, with its reason', () => {
    const d = decide(cleanInput({ admitted: { kind: 'mixed', reasons: ['spec.strategy changed outside the pod template; a rollback does not revert it'] } }));
    expect(d.conditions.podSpecOnly.status).toBe('unmet');
    expect(d.changeSet.reasons).toContain('at admission: spec.strategy changed outside the pod template; a rollback does not revert it');
    expect(d.verdict).toBe('suggest');
  });

  it('a reason seen both now and at admission is said once, not repeated "at admission"', () => {
    const live = decide(cleanInput({ events: [configChange({ name: 'app-config', at: min(-5) })] }));
    const reason = live.changeSet.reasons[0] ?? '';
    expect(reason).not.toBe('');
    const d = decide(cleanInput({ events: [configChange({ name: 'app-config', at: min(-5) })], admitted: { kind: 'mixed', reasons: [reason, 'spec.strategy changed'] } }));
    expect(d.changeSet.reasons.filter((r) => r.includes(reason))).toEqual([reason]);
    expect(d.changeSet.reasons).toContain('at admission: spec.strategy changed');
    expect(JSON.stringify(d)).not.toContain(`at admission: ${reason}`);
  });

  it('an unknown admission classification is unknown, a pod-spec-only one changes nothing', () => {
    expect(decide(cleanInput({ admitted: { kind: 'unknown', reasons: ['cache not synced'] } })).conditions.podSpecOnly.status).toBe('unknown');
    expect(decide(cleanInput({ admitted: { kind: 'pod-spec-only', reasons: [] } })).verdict).toBe('auto');
  });

  it('what is known now to be mixed stays mixed whatever admission said', () => {
    const events = [configChange({ name: 'app-config', at: min(-5) })];
    expect(decide(cleanInput({ events, admitted: { kind: 'unknown', reasons: ['x'] } })).changeSet.kind).toBe('mixed');
  });
});

describe('R10 the traffic share in the blast radius', () => {
  const evidence = errorRegressionWith({}).errorRate;
  const svc = (service: string, currentRequests: number | undefined) => ({ ...errorRegression({ service }), errorRate: currentRequests === undefined || evidence === undefined ? undefined : { ...evidence, currentRequests } });

  it('is the deployed service’s share of the requests of the services checked', () => {
    expect(trafficShareOf(svc('checkout', 250), [svc('cart', 500), svc('search', 250)])).toBe(0.25);
    expect(trafficShareOf(svc('checkout', 100), [])).toBe(1);
  });

  it('does not count the service twice and is unknown without requests', () => {
    expect(trafficShareOf(svc('checkout', 100), [svc('checkout', 100), svc('cart', 300)])).toBe(0.25);
    expect(trafficShareOf(svc('checkout', undefined), [svc('cart', 300)])).toBeUndefined();
    expect(trafficShareOf(svc('checkout', 0), [svc('cart', 0)])).toBeUndefined();
  });
});
