import { describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import { formatTemplateHistory } from '../../src/core/template-hash.js';
import { templateSince } from '../../src/core/template-since.js';
import { min } from '../support/builders.js';

const history = formatTemplateHistory([
  { hash: 'sha256:new', at: min(0) },
  { hash: 'sha256:old', at: min(-10) },
  { hash: 'sha256:unstamped', at: undefined },
]);

describe('R3 when the old template began running, from the Deployment stamps', () => {
  it('is the admission the template history records for it', () => {
    expect(templateSince({ [ANNOTATIONS.templateHistory.key]: history }, 'sha256:old')).toBe(min(-10));
  });

  it.each([
    ['the template is not in the history', {}, 'sha256:old'],
    ['the history has no admission time for it', { [ANNOTATIONS.templateHistory.key]: history }, 'sha256:unstamped'],
    ['it came back by a rollback the webhook stamped with it', { [ANNOTATIONS.templateHistory.key]: history, [ANNOTATIONS.rolledBackAt.key]: '2026-03-02T09:50:00Z' }, 'sha256:old'],
    ['it came back by the agent\'s rollback, recorded just before its admission', { [ANNOTATIONS.templateHistory.key]: history, [ANNOTATIONS.rolledBackAt.key]: '2026-03-02T09:49:59.200Z' }, 'sha256:old'],
  ] as const)('F1 is not known when %s', (_label, annotations, hash) => {
    expect(templateSince(annotations, hash)).toBeUndefined();
  });

  it('a rollback long before the template\'s admission, or after it, does not hide it', () => {
    for (const rolledBackAt of ['2026-03-02T09:40:00Z', '2026-03-02T09:55:00Z']) {
      expect(templateSince({ [ANNOTATIONS.templateHistory.key]: history, [ANNOTATIONS.rolledBackAt.key]: rolledBackAt }, 'sha256:old')).toBe(min(-10));
    }
  });
});
