import { describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import { judgeBlackout, type BlackoutInput } from '../../src/core/blackout.js';
import { min } from '../support/builders.js';

const OLD = 'sha256:00000000000000000002';
const EARLIER = 'sha256:00000000000000000001';

function input(over: Partial<BlackoutInput> = {}, ann: Record<string, string> = {}): BlackoutInput {
  return {
    namespace: 'shop',
    name: 'checkout',
    oldAnnotations: {
      [ANNOTATIONS.blackoutUntil.key]: new Date(min(10)).toISOString(),
      [ANNOTATIONS.rolledBackAt.key]: new Date(min(0)).toISOString(),
      [ANNOTATIONS.rolledBackBy.key]: 'rollguard-agent',
      [ANNOTATIONS.rollbackReason.key]: 'error rate 9% > 2%',
      ...ann,
    },
    newAnnotations: {},
    oldTemplateHash: OLD,
    newTemplateHash: EARLIER,
    history: [{ hash: OLD, at: min(-20) }, { hash: EARLIER, at: min(-90) }],
    now: min(5),
    requester: 'alice',
    ...over,
  };
}

describe('R8 blackout guard', () => {
  it('denies a rollback while the blackout lasts, with who, when, until, why and the override', () => {
    const d = judgeBlackout(input());
    expect(d.allowed).toBe(false);
    if (d.allowed) return;
    for (const part of ['rollguard-agent', '2026-03-02T10:00:00', '2026-03-02T10:10:00Z', 'error rate 9% > 2%', 'alice', 'rollguard.io/blackout-override', 'kubectl annotate deployment/checkout -n shop']) {
      expect(d.message).toContain(part);
    }
  });

  it.each([
    ['the blackout has ended (boundary included)', input({ now: min(10) })],
    ['no blackout is recorded', input({}, { [ANNOTATIONS.blackoutUntil.key]: '' })],
    ['the blackout annotation is unreadable (never deny when unsure)', input({}, { [ANNOTATIONS.blackoutUntil.key]: 'soon' })],
    ['the update goes to a template never seen (a fix forward)', input({ newTemplateHash: 'sha256:99999999999999999999' })],
    ['the template does not change', input({ newTemplateHash: OLD })],
    ['a human overrode it on the Deployment', input({}, { [ANNOTATIONS.blackoutOverride.key]: 'still broken, going further back' })],
    ['a human overrode it in the request', input({ newAnnotations: { [ANNOTATIONS.blackoutOverride.key]: 'bob: approved' } })],
  ])('allows it when %s', (_label, i) => {
    expect(judgeBlackout(i).allowed).toBe(true);
  });

  it('does not count a blank override', () => {
    expect(judgeBlackout(input({ newAnnotations: { [ANNOTATIONS.blackoutOverride.key]: '   ' } })).allowed).toBe(false);
  });
});
