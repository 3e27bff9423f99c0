import { describe, expect, it } from 'vitest';
import { parseDeadline } from '../../src/cli/webhook-options.js';

// F2: `rollguard webhook --deadline` must stay under the longest timeoutSeconds (5 s) the webhook
// configurations allow, or the apiserver gives up before the webhook answers.

describe('F2 --deadline', () => {
  it('reads a duration in milliseconds', () => {
    expect(parseDeadline('500ms')).toBe(500);
    expect(parseDeadline('1.5s')).toBe(1500);
  });

  it.each(['5s', '10s', '5ms', 'soon', ''])('refuses %j with what it expects', (value) => {
    expect(() => parseDeadline(value)).toThrow(/from 10ms to under 5s/);
  });
});
