import { describe, expect, it } from 'vitest';
import { formatDuration, formatElapsed, parseDuration } from '../../src/core/duration.js';
import { DEFAULT_POLICY, METRICS_PRESETS, parsePolicy } from '../../src/core/policy.js';

describe('R11 policies', () => {
  it('defaults come from the source post: 15m onset, 30m config and migration windows, 10m blackout, mode auto', () => {
    const r = parsePolicy({});
    expect(r).toEqual({ ok: true, policy: DEFAULT_POLICY });
    expect(DEFAULT_POLICY).toMatchObject({ mode: 'auto', onsetWindowMs: 900_000, configWindowMs: 1_800_000, migrationWindowMs: 1_800_000, blackoutMs: 600_000 });
  });

  it('reads durations as text and merges onto the base policy', () => {
    const cluster = parsePolicy({ mode: 'suggest', windows: { onset: '20m' }, thresholds: { minRequests: 500 } });
    if (!cluster.ok) throw new Error(cluster.errors.join());
    expect(cluster.policy).toMatchObject({ mode: 'suggest', onsetWindowMs: 1_200_000, configWindowMs: 1_800_000 });
    expect(cluster.policy.thresholds).toMatchObject({ minRequests: 500, errorRate: 0.02 });
    const ns = parsePolicy({ blackout: '1h', serviceLabel: 'app' }, cluster.policy);
    if (!ns.ok) throw new Error(ns.errors.join());
    expect(ns.policy).toMatchObject({ mode: 'suggest', onsetWindowMs: 1_200_000, blackoutMs: 3_600_000, serviceLabel: 'app' });
  });

  it.each([
    [{ mode: 'yolo' }, /^mode: /],
    [{ windows: { onset: '15 minutes' } }, /^windows.onset: windows.onset must be a duration such as "15m"/],
    [{ thresholds: { errorRate: 5 } }, /^thresholds.errorRate: thresholds.errorRate must be below 1 \(a share, not a percentage\)/],
    [{ thresholds: { persistence: 0 } }, /^thresholds.persistence: thresholds.persistence as a count must be a whole number of evaluations from 1 to 60/],
    [{ thresholds: { persistence: 61 } }, /^thresholds.persistence: .*from 1 to 60/],
    [{ thresholds: { persistence: 'a while' } }, /^thresholds.persistence: thresholds.persistence must be a duration of at least 1s such as "90s"/],
    [{ thresholds: { persistence: '500ms' } }, /^thresholds.persistence: .*at least 1s/],
    [{ thresholds: { persistence: '1h' } }, /^thresholds.persistence: 1h is 120 evaluations at metrics.step 30s; at most 60 \(30m\) can be told/],
    [{ migrationSelectors: [{ matchExpressions: [{ key: 'a', operator: 'Maybe' }] }] }, /^migrationSelectors\[0\].matchExpressions\[0\].operator: /],
    [{ blackuot: '5m' }, /blackuot/],
    [{ metrics: { preset: 'datadog' } }, /^metrics.preset: /],
    [{ metrics: { serviceLabel: 'app.kubernetes.io/name' } }, /^metrics.serviceLabel: metrics.serviceLabel must be a Prometheus label name/],
    [{ metrics: { statusLabel: '' } }, /^metrics.statusLabel: metrics.statusLabel must be a Prometheus label name/],
    [{ metrics: { namespaceLabel: '1ns' } }, /^metrics.namespaceLabel: /],
    [{ metrics: { podLabel: 'pod-name' } }, /^metrics.podLabel: metrics.podLabel must be a Prometheus label name, or "" for metrics without a pod label/],
  ])('rejects %j with a message naming the field', (input, message) => {
    const r = parsePolicy(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('\n')).toMatch(message);
  });

  it.each(METRICS_PRESETS)('R11 accepts metrics.preset %s', (preset) => {
    const r = parsePolicy({ metrics: { preset } });
    expect(r.ok && r.policy.metrics.preset).toBe(preset);
  });

  it('R11 refuses an unknown preset, naming it and every preset it knows', () => {
    const r = parsePolicy({ metrics: { preset: 'otel' } });
    expect(r.ok ? [] : r.errors).toEqual([
      'metrics.preset: metrics.preset "otel" is not a preset rollguard knows: use one of default, istio, ingress-nginx, opentelemetry, linkerd, grpc, or metrics.queries',
    ]);
  });

  it('R5: persistence is a duration, the older count of evaluations still accepted', () => {
    const duration = parsePolicy({ thresholds: { persistence: '2m' } });
    const count = parsePolicy({ thresholds: { persistence: 4 } });
    expect(duration.ok && duration.policy.thresholds.persistence).toEqual({ durationMs: 120_000 });
    expect(count.ok && count.policy.thresholds.persistence).toEqual({ evaluations: 4 });
    // Checked against the step the policy ends up with: 30m at a 1s step is 1800 evaluations.
    const fine = parsePolicy({ metrics: { step: '1s' }, thresholds: { persistence: '30s' } });
    expect(fine.ok).toBe(true);
    const tooLong = parsePolicy({ metrics: { step: '1s' }, thresholds: { persistence: '2m' } });
    expect(tooLong.ok ? [] : tooLong.errors).toEqual(['thresholds.persistence: 2m is 120 evaluations at metrics.step 1s; at most 60 (1m) can be told']);
  });

  it('R5: metrics.serviceLabel/namespaceLabel/statusLabel are the metric labels, inherited field by field, apart from the Deployment serviceLabel', () => {
    const cluster = parsePolicy({ serviceLabel: 'app', metrics: { serviceLabel: 'destination_app', namespaceLabel: '' } });
    if (!cluster.ok) throw new Error(cluster.errors.join());
    expect(cluster.policy.serviceLabel).toBe('app');
    expect(cluster.policy.metrics).toMatchObject({ serviceLabel: 'destination_app', namespaceLabel: '' });
    expect(cluster.policy.metrics.statusLabel).toBeUndefined();
    const ns = parsePolicy({ metrics: { statusLabel: 'status' } }, cluster.policy);
    if (!ns.ok) throw new Error(ns.errors.join());
    expect(ns.policy.metrics).toMatchObject({ serviceLabel: 'destination_app', namespaceLabel: '', statusLabel: 'status' });
    expect(DEFAULT_POLICY.metrics).not.toHaveProperty('serviceLabel');
  });

  it('R1: metrics.podLabel is inherited like the other metric labels, and "" (no pod label) overrides a base that sets one', () => {
    const cluster = parsePolicy({ metrics: { podLabel: 'kubernetes_pod_name' } });
    if (!cluster.ok) throw new Error(cluster.errors.join());
    expect(cluster.policy.metrics.podLabel).toBe('kubernetes_pod_name');
    const inherits = parsePolicy({ metrics: { statusLabel: 'status' } }, cluster.policy);
    expect(inherits.ok && inherits.policy.metrics.podLabel).toBe('kubernetes_pod_name');
    const none = parsePolicy({ metrics: { podLabel: '' } }, cluster.policy);
    expect(none.ok && none.policy.metrics.podLabel).toBe('');
    expect(DEFAULT_POLICY.metrics).not.toHaveProperty('podLabel');
  });

  it('prefixes errors with where the policy came from', () => {
    const r = parsePolicy({ mode: 1 }, DEFAULT_POLICY, 'namespaces.shop');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]).toMatch(/^namespaces.shop.mode: /);
  });

  it('has no way to turn the migration guard off', () => {
    expect(parsePolicy({ migrationGuard: false }).ok).toBe(false);
    const narrowed = parsePolicy({ windows: { migration: '5m' } });
    expect(narrowed.ok).toBe(false);
    if (!narrowed.ok) expect(narrowed.errors[0]).toMatch(/^windows.migration: .*can be widened, never weakened/);
    const widened = parsePolicy({ windows: { migration: '2h' } });
    expect(widened.ok && widened.policy.migrationWindowMs).toBe(7_200_000);
  });
});

describe('durations', () => {
  it.each([
    ['15m', 900_000],
    ['1h30m', 5_400_000],
    ['90s', 90_000],
    ['500ms', 500],
    ['1.5h', 5_400_000],
  ])('parses %s', (text, ms) => { expect(parseDuration(text)).toBe(ms); });

  it.each(['', '15', 'm', '15 m', '15min', '-5m'])('rejects %j', (text) => { expect(parseDuration(text)).toBeUndefined(); });

  it('formats back', () => {
    expect(formatDuration(900_000)).toBe('15m');
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(61_500)).toBe('1m1.5s');
    expect(formatDuration(2_500)).toBe('2.5s');
    expect(formatDuration(500)).toBe('500ms');
    expect(formatDuration(3_600_001)).toBe('1h0.001s');
    expect(formatDuration(-90_000)).toBe('-1m30s');
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(604_800_000)).toBe('7d');
    expect(formatDuration(90_000_000)).toBe('1d1h');
  });

  it.each([900_000, 5_400_000, 61_500, 2_500, 500, 1, 3_600_001, 597_785, 86_399_999, 604_800_000, 90_061_500])('formats %d ms in a form that parses back to it', (ms) => {
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });

  it('rounds measured durations to what a person reads', () => {
    expect(formatElapsed(597_785)).toBe('9m58s');
    expect(formatElapsed(2_500)).toBe('2.5s');
    expect(formatElapsed(2_449)).toBe('2.4s');
    expect(formatElapsed(450)).toBe('450ms');
    expect(formatElapsed(15_000)).toBe('15s');
    expect(formatElapsed(-12_600)).toBe('-13s');
    expect(formatElapsed(0)).toBe('0s');
  });
});
