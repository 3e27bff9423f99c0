import { describe, expect, it } from 'vitest';
import { AlertFollowUp } from '../../src/agent/alert-follow-up.js';

// R10: an alert's Deployments are evaluated every step while the alert fires, not only once.

describe('R10 following up an alert', () => {
  it('keeps a Deployment due until its deadline, a later alert extending it', () => {
    const f = new AlertFollowUp();
    f.follow('shop/checkout', 1_000);
    f.follow('shop/cart', 500);
    expect(f.due(400).sort()).toEqual(['shop/cart', 'shop/checkout']);
    f.follow('shop/checkout', 800);
    expect(f.due(900)).toEqual(['shop/checkout']);
    f.follow('shop/checkout', 2_000);
    expect(f.due(1_500)).toEqual(['shop/checkout']);
    expect(f.due(2_001)).toEqual([]);
  });

  it('a resolved alert stops it', () => {
    const f = new AlertFollowUp();
    f.follow('shop/checkout', 1_000);
    f.stop('shop/checkout');
    expect(f.due(0)).toEqual([]);
  });
});
