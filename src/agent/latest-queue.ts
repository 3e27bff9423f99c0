// One delivery at a time per key (a decision), latest state wins: a state that arrives while an
// older one is still being delivered or retried replaces whatever waits, and the retry of the older
// one is told (its signal aborts) so it stops. Nothing here ever blocks the caller.

export type Deliver<T> = (key: string, item: T, superseded: AbortSignal) => Promise<void>;

interface Slot<T> {
  waiting: { item: T; done: () => void } | undefined;
  current: AbortController | undefined;
}

export class LatestQueue<T> {
  private readonly slots = new Map<string, Slot<T>>();
  private readonly drains = new Set<Promise<void>>();

  constructor(private readonly deliver: Deliver<T>) {}

  /** Resolves once this item was delivered, given up on, or replaced by a newer one. Never rejects. */
  push(key: string, item: T): Promise<void> {
    return new Promise((resolve) => {
      let slot = this.slots.get(key);
      if (slot === undefined) {
        slot = { waiting: undefined, current: undefined };
        this.slots.set(key, slot);
      }
      slot.waiting?.done();
      slot.waiting = { item, done: resolve };
      if (slot.current !== undefined) {
        slot.current.abort();
        return;
      }
      const drain = this.drain(key, slot).finally(() => this.drains.delete(drain));
      this.drains.add(drain);
    });
  }

  private async drain(key: string, slot: Slot<T>): Promise<void> {
    for (let next = slot.waiting; next !== undefined; next = slot.waiting) {
      slot.waiting = undefined;
      const controller = new AbortController();
      slot.current = controller;
      try {
        await this.deliver(key, next.item, controller.signal);
      } catch {
        // the deliverer logs its own failures
      } finally {
        slot.current = undefined;
        next.done();
      }
    }
    this.slots.delete(key);
  }

  /** Every queued delivery finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.drains.size > 0) await Promise.all([...this.drains]);
  }
}
