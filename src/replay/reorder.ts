// Audit records reach the log in roughly stageTimestamp order, but concurrent requests, rotated
// files and logs shipped twice jumble and repeat some. This buffer holds records for a bounded
// window of stageTimestamp, releases them in order, and drops repeats of an auditID. Memory is
// bounded by the window, not by the log: released records and old auditIDs are forgotten.

export type Rejection = 'duplicate' | 'too-late';

/** What the buffer orders and deduplicates by: the record's stageTimestamp and auditID. */
export interface Ordered {
  at: number;
  auditID: string;
}

interface Entry<T extends Ordered> {
  item: T;
  seq: number;
}

function before<T extends Ordered>(a: Entry<T>, b: Entry<T>): boolean {
  return a.item.at < b.item.at || (a.item.at === b.item.at && a.seq < b.seq);
}

export class ReorderBuffer<T extends Ordered> {
  private readonly heap: Entry<T>[] = [];
  private readonly seen = new Map<string, number>();
  private seq = 0;
  private newest = Number.NEGATIVE_INFINITY;
  private released = Number.NEGATIVE_INFINITY;
  private lastPrune = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly windowMs: number,
    private readonly release: (item: T) => void,
  ) {}

  /** Adds a record; returns why it was rejected, or undefined when it was accepted. */
  push(item: T): Rejection | undefined {
    const id = item.auditID;
    if (this.seen.has(id)) return 'duplicate';
    if (item.at < this.released) return 'too-late';
    this.seen.set(id, item.at);
    this.insert({ item, seq: this.seq++ });
    if (item.at > this.newest) this.newest = item.at;
    this.drain(this.newest - this.windowMs);
    if (this.newest - this.lastPrune > this.windowMs) this.prune();
    return undefined;
  }

  /** Releases everything still held, in order. */
  flush(): void {
    this.drain(Number.POSITIVE_INFINITY);
  }

  get size(): number {
    return this.heap.length;
  }

  private drain(upTo: number): void {
    for (let top = this.heap[0]; top !== undefined && top.item.at <= upTo; top = this.heap[0]) {
      this.pop();
      this.released = top.item.at;
      this.release(top.item);
    }
  }

  // An auditID older than twice the window can only come back as a "too-late" record.
  private prune(): void {
    const horizon = this.newest - 2 * this.windowMs;
    for (const [id, at] of this.seen) if (at < horizon) this.seen.delete(id);
    this.lastPrune = this.newest;
  }

  private insert(entry: Entry<T>): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent];
      if (p === undefined || !before(entry, p)) break;
      h[i] = p;
      i = parent;
    }
    h[i] = entry;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = last;
      let at = -1;
      const left = h[l];
      const right = h[r];
      if (left !== undefined && before(left, smallest)) {
        smallest = left;
        at = l;
      }
      if (right !== undefined && before(right, smallest)) {
        smallest = right;
        at = r;
      }
      if (at < 0) break;
      h[i] = smallest;
      i = at;
    }
    h[i] = last;
  }
}
