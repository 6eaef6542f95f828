/**
 * A local model of Shopify's GraphQL leaky bucket (per app and store), so requests wait for their
 * points instead of being answered THROTTLED.
 *
 * The model starts from the plan's figures and is corrected by the `throttleStatus` of every
 * response. Requests are granted in FIFO order: a request waits until its requested cost is
 * available, then reserves it. The model is kept on the conservative side: points reserved by
 * requests still in flight are subtracted from what Shopify last reported, and the refill is
 * counted from when we received a status, not when Shopify computed it.
 */
import { events as defaultBus, type SyncEventBus } from '../../core/events.js';
import { sleep } from '../../core/retry.js';

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
  private queue: Promise<void> = Promise.resolve();
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
   * Waits (FIFO) until `cost` points are available, then reserves them. A cost above the bucket
   * size waits for a full bucket (Shopify refuses it anyway: MAX_COST_EXCEEDED is checked first).
   */
  acquire(cost: number, signal?: AbortSignal): Promise<Reservation> {
    const granted = this.queue.then(async () => {
      const started = this.now();
      for (let wait = this.waitFor(cost); wait > 0; wait = this.waitFor(cost)) await sleep(wait, signal);
      this.stats.waitedMs += this.now() - started;
      this.available -= cost;
      const id = ++this.nextId;
      this.inflight.set(id, cost);
      this.stats.granted++;
      return { id, cost };
    });
    // The next request queues behind this one whether it is granted or aborted.
    this.queue = granted.then(() => undefined, () => undefined);
    return granted;
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
