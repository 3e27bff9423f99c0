import { describe, expect, it } from 'vitest';
import { AlertPayloadError, parseAlertmanagerPayload } from '../../src/agent/alertmanager.js';

const payload = {
  version: '4',
  groupKey: '{}:{alertname="HighErrorRate"}',
  status: 'firing',
  receiver: 'rollguard',
  groupLabels: {},
  commonLabels: {},
  commonAnnotations: {},
  externalURL: 'http://127.0.0.1:9093',
  truncatedAlerts: 0,
  alerts: [
    { status: 'firing', labels: { alertname: 'HighErrorRate', namespace: 'shop', service: 'checkout' }, annotations: {}, startsAt: '2026-03-02T10:04:00Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: 'f1' },
    { status: 'resolved', labels: { alertname: 'Slow', namespace: 'shop', deployment: 'cart' }, annotations: {}, startsAt: '2026-03-02T10:01:00Z', endsAt: '2026-03-02T10:05:00Z', generatorURL: '', fingerprint: 'f2' },
    { status: 'firing', labels: { alertname: 'NodeDown' }, annotations: {}, startsAt: '2026-03-02T10:01:00Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: 'f3' },
  ],
};

describe('F5 Alertmanager webhook payloads', () => {
  it('reads each alert’s status and the labels that name a deploy', () => {
    expect(parseAlertmanagerPayload(payload)).toEqual([
      { name: 'HighErrorRate', status: 'firing', namespace: 'shop', service: 'checkout', deployment: undefined },
      { name: 'Slow', status: 'resolved', namespace: 'shop', service: undefined, deployment: 'cart' },
      { name: 'NodeDown', status: 'firing', namespace: undefined, service: undefined, deployment: undefined },
    ]);
  });

  it.each([
    ['another version', { ...payload, version: '3' }, /version must be "4"/],
    ['no alerts list', { version: '4' }, /alerts/],
    ['an alert without labels', { version: '4', alerts: [{ status: 'firing' }] }, /alerts\.0\.labels/],
    ['not an object', 'hello', /payload/],
  ])('rejects %s with the field', (_label, body, message) => {
    expect(() => parseAlertmanagerPayload(body)).toThrow(AlertPayloadError);
    expect(() => parseAlertmanagerPayload(body)).toThrow(message);
  });
});
