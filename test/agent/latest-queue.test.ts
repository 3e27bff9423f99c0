import { describe, expect, it } from 'vitest';
import { LatestQueue } from '../../src/agent/latest-queue.js';

// Delivery per decision: one at a time, the latest state winning, other decisions not waiting.

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('R10 deliveries never block evaluation and the latest state wins', () => {
  it('delivers the first, skips what a newer state replaced while it ran, then the latest', async () => {
    const seen: string[] = [];
    const q = new LatestQueue<string>(async (_k, item) => {
      seen.push(`start ${item}`);
      await tick(20);
      seen.push(`end ${item}`);
    });
    const all = [q.push('d1', 'opened'), q.push('d1', 'changed'), q.push('d1', 'applied')];
    await Promise.all(all);
    expect(seen).toEqual(['start opened', 'end opened', 'start applied', 'end applied']);
  });

  it('tells a running delivery it was superseded (its signal aborts), and keys do not wait for each other', async () => {
    const aborted: string[] = [];
    const order: string[] = [];
    const q = new LatestQueue<string>(async (key, item, signal) => {
      order.push(`${key}:${item}`);
      await tick(30);
      if (signal.aborted) aborted.push(item);
    });
    const a = q.push('d1', 'opened');
    const b = q.push('d2', 'opened');
    await tick();
    expect(order).toEqual(['d1:opened', 'd2:opened']);
    const c = q.push('d1', 'applied');
    await Promise.all([a, b, c]);
    expect(aborted).toEqual(['opened']);
    await q.idle();
  });

  it('a failing delivery does not stop the next one', async () => {
    const seen: string[] = [];
    const q = new LatestQueue<string>((_k, item) => {
      seen.push(item);
      return item === 'bad' ? Promise.reject(new Error('boom')) : Promise.resolve();
    });
    await q.push('d1', 'bad');
    await q.push('d1', 'good');
    expect(seen).toEqual(['bad', 'good']);
  });
});
