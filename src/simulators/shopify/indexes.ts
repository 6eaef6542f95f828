import type { Listable } from './model.js';

/**
 * Records in the order of their last change. Each change appends to a log; reading compacts
 * the log to the latest entry of each record. Because change times never go backwards, the
 * live list is sorted by `updatedAt` too, so `updated_at:>` filters are a binary search.
 */
export class RecencyIndex<T extends Listable> {
  private log: T[] = [];
  private logSeq: number[] = [];
  private liveCache: T[] | null = null;

  /** Records that `item` changed (its `seq` must already be the new one). */
  touch(item: T): void {
    this.log.push(item);
    this.logSeq.push(item.seq);
    this.liveCache = null;
  }

  /** Live records, oldest change first. */
  live(): T[] {
    if (this.liveCache) return this.liveCache;
    const out: T[] = [];
    const seqs: number[] = [];
    for (let i = 0; i < this.log.length; i++) {
      const item = this.log[i]!;
      if (item.seq === this.logSeq[i]) {
        out.push(item);
        seqs.push(item.seq);
      }
    }
    this.log = out.slice();
    this.logSeq = seqs;
    this.liveCache = out;
    return out;
  }

  /** Forgets everything. */
  clear(): void {
    this.log = [];
    this.logSeq = [];
    this.liveCache = null;
  }
}

/** First index in `arr` (sorted ascending by `key`) whose key is > `value` (or >= when `inclusive`). */
export function lowerBound<T>(arr: readonly T[], key: (t: T) => number, value: number, inclusive: boolean): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = key(arr[mid]!);
    if (inclusive ? k < value : k <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A multi-map from a string key (SKU) to records. */
export class MultiIndex<T> {
  private map = new Map<string, T[]>();
  /** Adds `item` under `key` (ignored for a null key). */
  add(key: string | null, item: T): void {
    if (key === null) return;
    const list = this.map.get(key);
    if (list) list.push(item);
    else this.map.set(key, [item]);
  }
  /** Removes `item` from `key`. */
  remove(key: string | null, item: T): void {
    if (key === null) return;
    const list = this.map.get(key);
    if (!list) return;
    const i = list.indexOf(item);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.map.delete(key);
  }
  /** Records under `key`. */
  get(key: string): readonly T[] {
    return this.map.get(key) ?? [];
  }
  /** Forgets everything. */
  clear(): void {
    this.map.clear();
  }
}
