import type { Logger } from '../../core/logger.js';
import type { VariantRec } from './model.js';
import { SeededRandom } from '../random.js';
import type { ShopifySimState } from './state.js';
import { StoreRejection } from './store.js';

/** Share of generated orders that are later cancelled (and restocked). */
const CANCEL_SHARE = 0.05;

/**
 * Places random orders at a steady rate (`ordersPerSecond`) so that syncs see a live store:
 * one or two lines of in-stock variants, sometimes cancelling a recent order.
 */
export class TrafficGenerator {
  private timer: NodeJS.Timeout | null = null;
  private readonly rng: SeededRandom;

  constructor(private readonly sim: ShopifySimState, seed: number, private readonly log: Logger) {
    this.rng = new SeededRandom(`traffic:${seed}`);
  }

  /** Changes the rate; 0 stops the generator. */
  setRate(ordersPerSecond: number): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (ordersPerSecond <= 0) return;
    const every = Math.max(1, Math.round(1000 / ordersPerSecond));
    const perTick = Math.max(1, Math.round(ordersPerSecond / (1000 / every)));
    this.timer = setInterval(() => {
      for (let i = 0; i < perTick; i++) this.tick();
    }, every);
    this.timer.unref();
  }

  /** Places one random order (and maybe cancels one). */
  tick(): void {
    const store = this.sim.store;
    if (store.variants.length === 0) return;
    try {
      if (store.orders.length > 0 && this.rng.chance(CANCEL_SHARE)) {
        const recent = store.orders[store.orders.length - 1 - this.rng.int(0, Math.min(20, store.orders.length - 1))]!;
        if (recent.cancelledAt === null) store.cancelOrder(recent, { restock: true });
        return;
      }
      const lines: { variant: VariantRec; quantity: number }[] = [];
      const count = this.rng.int(1, 2);
      for (let i = 0; i < count * 5 && lines.length < count; i++) {
        const v = store.variants[this.rng.int(0, store.variants.length - 1)]!;
        const level = store.locations[0] ? v.inventoryItem.levels.get(store.locations[0].id) : undefined;
        if (v.sku && level && level.quantities.available > 0 && !lines.some((l) => l.variant === v)) lines.push({ variant: v, quantity: 1 });
      }
      if (lines.length > 0) store.createOrder(lines);
    } catch (err) {
      if (!(err instanceof StoreRejection)) this.log.warn({ err }, 'traffic generator failed to place an order');
    }
  }

  /** Stops the generator. */
  stop(): void {
    this.setRate(0);
  }
}
