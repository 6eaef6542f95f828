/**
 * Group commit of the webhook intake: deliveries that arrive while a store is running are stored
 * together by the next one (one statement, one commit), and each delivery is acknowledged once
 * the statement holding its events committed. A lone delivery is stored at once (no added wait);
 * under a burst, the batch grows with the load instead of the number of round trips.
 */
import type { RawEvent } from '../../core/model.js';
import type { NewRawEvent } from '../../connectors/types.js';
import type { StoreResult } from './event-store.js';

/** What a group commit needs from the store. */
export interface BatchStore {
  store(batch: NewRawEvent[]): Promise<StoreResult>;
}

/** What storing one caller's events did. */
export interface GroupStoreResult {
  /** Of the caller's events, those stored now (new). */
  stored: RawEvent[];
  /** Of the caller's events, those seen before (already stored, or unchanged states). */
  duplicates: number;
}

interface Waiting {
  events: NewRawEvent[];
  resolve: (r: GroupStoreResult) => void;
  reject: (err: unknown) => void;
}

const identity = (e: { platform: string; instance: string; dedupeKey: string }) => `${e.platform}\u0000${e.instance}\u0000${e.dedupeKey}`;

/** Stores the events of concurrent callers together; at most `maxEvents` per statement. */
export class GroupCommit {
  private queue: Waiting[] = [];
  private running = false;

  constructor(
    private readonly store: BatchStore,
    private readonly maxEvents = 500,
  ) {}

  /** Stores `events` (with whatever else is waiting); resolves once they are durable. */
  add(events: NewRawEvent[]): Promise<GroupStoreResult> {
    if (events.length === 0) return Promise.resolve({ stored: [], duplicates: 0 });
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const group: Waiting[] = [];
        let n = 0;
        while (this.queue.length > 0 && (group.length === 0 || n + this.queue[0]!.events.length <= this.maxEvents)) {
          const w = this.queue.shift()!;
          group.push(w);
          n += w.events.length;
        }
        let result: StoreResult;
        try {
          result = await this.store.store(group.flatMap((w) => w.events));
        } catch (err) {
          for (const w of group) w.reject(err);
          continue;
        }
        // A stored event belongs to the first caller that brought its identity (a delivery sent
        // twice at once is stored once: the second caller's copy is a duplicate).
        const stored = new Map(result.stored.map((e) => [identity(e), e]));
        for (const w of group) {
          const mine: RawEvent[] = [];
          for (const e of w.events) {
            const k = identity(e);
            const s = stored.get(k);
            if (s) {
              mine.push(s);
              stored.delete(k);
            }
          }
          w.resolve({ stored: mine, duplicates: w.events.length - mine.length });
        }
      }
    } finally {
      this.running = false;
    }
  }
}
