/**
 * A local model of Shopify's GraphQL leaky bucket (per app and store), so requests wait for their
 * points instead of being answered THROTTLED.
 *
 * The model starts from the plan's figures and is corrected by the `throttleStatus` of every
 * response. A request waits until its requested cost is available, then reserves it. Requests
 * are granted in FIFO order within two classes: `urgent` ones (writes: a change waits for them)
 * go before `background` ones (polls, lookups, drift checks), so a write needing 10 points is not
 * queued behind a poll page waiting for 1,000; a background request that has waited
 * {@link BACKGROUND_MAX_DEFER_MS} goes first anyway, so a stream of writes cannot starve polls.
 * The model is kept on the conservative side: points reserved by requests still in flight are
 * subtracted from what Shopify last reported, and the refill is counted from when we received a
 * status, not when Shopify computed it.
 */
import { events as defaultBus, type SyncEventBus } from '../../core/events.js';

/** Shopify plans and their bucket (restore rate in points/s, maximum available). */
export const SHOPIFY_PLANS = {
  standard: { restoreRate: 100, maximumAvailable: 2000 },
  advanced: { restoreRate: 200, maximumAvailable: 4000 },
  plus: { restoreRate: 1000, maximumAvailable: 20000 },
  enterprise: { restoreRate: 2000, maximumAvailable: 40000 },
} as const;
/** A plan name (config `plan`). */
export type ShopifyPlanName = keyof typeof SHOPIFY_PLANS;

/** `extensions.cost.throttleStatus`. */
export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

/** `extensions.cost` of a response. */
export interface QueryCost {
  requestedQueryCost: number | null;
  actualQueryCost: number | null;
  throttleStatus: ThrottleStatus | null;
}

/** How long a background request may be passed over by urgent ones before it goes first. */
export const BACKGROUND_MAX_DEFER_MS = 10_000;

/** Who waits for a request: `urgent` (a write a change waits for) or `background` (default). */
export type BucketPriority = 'urgent' | 'background';

interface Waiter {
  cost: number;
  urgent: boolean;
  since: number;
  signal?: AbortSignal;
  onAbort?: () => void;
  resolve: (r: Reservation) => void;
  reject: (err: unknown) => void;
}

/** Points held for one request between `acquire` and `settle`. */
export interface Reservation {
  readonly id: number;
  readonly cost: number;
}

/** Options of {@link ShopifyCostBucket}. */
export interface CostBucketOptions {
  instance: string;
  plan?: ShopifyPlanName;
  events?: SyncEventBus;
  /** Milliseconds clock (tests). */
  now?: () => number;
}

/** Totals since the bucket was created (benchmarks and tests read them). */
export interface BucketStats {
  /** Points Shopify reported as actually spent. */
  spent: number;
  /** Requests answered THROTTLED. */
  throttled: number;
  /** Requests granted. */
  granted: number;
  /** Time spent waiting for points, ms. */
  waitedMs: number;
}

/** The local model of one store's cost bucket (see the module comment). */
export class ShopifyCostBucket {
  private available: number;
  private maximum: number;
  private rate: number;
  private at: number;
  private readonly inflight = new Map<number, number>();
  private nextId = 0;
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly bus: SyncEventBus;
  private readonly now: () => number;
  private readonly instance: string;
  /** Running totals. */
  readonly stats: BucketStats = { spent: 0, throttled: 0, granted: 0, waitedMs: 0 };

  constructor(opts: CostBucketOptions) {
    const plan = SHOPIFY_PLANS[opts.plan ?? 'standard'];
    this.instance = opts.instance;
    this.maximum = plan.maximumAvailable;
    this.rate = plan.restoreRate;
    this.available = plan.maximumAvailable;
    this.bus = opts.events ?? defaultBus;
    this.now = opts.now ?? (() => performance.timeOrigin + performance.now());
    this.at = this.now();
  }

  private refill(): void {
    const t = this.now();
    this.available = Math.min(this.maximum, this.available + ((t - this.at) / 1000) * this.rate);
    this.at = t;
  }

  /** Points the model believes are available now (never more than Shopify has). */
  availableNow(): number {
    this.refill();
    return this.available;
  }

  /** The bucket's size and restore rate as last reported. */
  limits(): { maximumAvailable: number; restoreRate: number } {
    return { maximumAvailable: this.maximum, restoreRate: this.rate };
  }

  /** Milliseconds until `cost` points are available (0 when they are). */
  waitFor(cost: number): number {
    this.refill();
    const need = Math.min(cost, this.maximum) - this.available;
    return need <= 0 ? 0 : Math.ceil((need / this.rate) * 1000);
  }

  /**
   * Waits until `cost` points are available, then reserves them: FIFO among requests of the same
   * priority, urgent before background (a background request deferred for
   * {@link BACKGROUND_MAX_DEFER_MS} goes first). A cost above the bucket size waits for a full
   * bucket (Shopify refuses it anyway: MAX_COST_EXCEEDED is checked first).
   */
  acquire(cost: number, signal?: AbortSignal, priority: BucketPriority = 'background'): Promise<Reservation> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<Reservation>((resolve, reject) => {
      const w: Waiter = { cost, urgent: priority === 'urgent', since: this.now(), signal, resolve, reject };
      if (signal) {
        w.onAbort = () => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(signal.reason);
          this.pump();
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiters.push(w);
      this.pump();
    });
  }

  /** The request to grant next: an overdue background one, else the first urgent one, else the first. */
  private next(): Waiter | undefined {
    const first = this.waiters[0];
    if (!first || first.urgent || this.now() - first.since >= BACKGROUND_MAX_DEFER_MS) return first;
    return this.waiters.find((w) => w.urgent) ?? first;
  }

  /** Grants what can be granted now, and sets a timer for the next one. */
  private pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (let w = this.next(); w; w = this.next()) {
      const wait = this.waitFor(w.cost);
      if (wait > 0) {
        // an urgent request arriving meanwhile pumps again at once
        this.timer = setTimeout(() => this.pump(), wait);
        return;
      }
      this.waiters = this.waiters.filter((x) => x !== w);
      if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
      this.stats.waitedMs += this.now() - w.since;
      this.available -= w.cost;
      const id = ++this.nextId;
      this.inflight.set(id, w.cost);
      this.stats.granted++;
      w.resolve({ id, cost: w.cost });
    }
  }

  /**
   * Ends a reservation with what Shopify answered. With a `throttleStatus`, the model is reset to
   * Shopify's figure minus what other requests in flight have reserved; without one (network
   * error, 5xx) the reserved points stay spent, which errs on the safe side.
   */
  settle(r: Reservation, cost: QueryCost | null, throttled = false): void {
    this.inflight.delete(r.id);
    if (throttled) {
      this.stats.throttled++;
      this.bus.emit('shopify.throttled', { instance: this.instance });
    }
    if (typeof cost?.actualQueryCost === 'number') this.stats.spent += cost.actualQueryCost;
    const s = cost?.throttleStatus;
    if (!s) return;
    this.maximum = s.maximumAvailable;
    this.rate = s.restoreRate;
    let reserved = 0;
    for (const c of this.inflight.values()) reserved += c;
    this.available = Math.max(-this.maximum, s.currentlyAvailable - reserved);
    this.at = this.now();
    this.bus.emit('shopify.bucket', { instance: this.instance, available: s.currentlyAvailable, maximum: s.maximumAvailable, restoreRate: s.restoreRate });
  }

  /** How long to wait before retrying a request of `cost` points (THROTTLED answers). */
  retryAfterMs(cost: number): number {
    return Math.max(50, this.waitFor(cost));
  }
}
