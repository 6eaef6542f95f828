import type { Logger } from '../../core/logger.js';
import type { ProductRecord } from './model.js';
import { createOrder, updateOrder } from './orders.js';
import type { SeededRandom } from '../random.js';
import type { WooStore } from './store.js';

/**
 * Store activity: `ordersPerSecond` orders of 1-2 lines (quantity 1-3) placed as `processing`
 * (stock is taken), and one in ten earlier orders cancelled (stock comes back). Seeded.
 */
export class TrafficGenerator {
  private timer: NodeJS.Timeout | undefined;
  private readonly placed: number[] = [];

  constructor(
    private readonly store: WooStore,
    private readonly random: SeededRandom,
    private readonly logger: Logger,
  ) {}

  /** Starts (or restarts) at the given rate; 0 stops. */
  start(ordersPerSecond: number): void {
    this.stop();
    if (ordersPerSecond <= 0) return;
    this.timer = setInterval(() => this.tick(), Math.max(1, Math.round(1000 / ordersPerSecond)));
    this.timer.unref();
  }

  /** Stops the generator. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private cache: { size: number; at: number; ids: ProductRecord[] } = { size: -1, at: 0, ids: [] };

  /** Purchasable items with a SKU, recomputed when the catalog size changes or every 5 s (100k products). */
  private buyable(): ProductRecord[] {
    const now = Date.now();
    if (this.cache.size !== this.store.products.size || now - this.cache.at > 5000) {
      const ids = [...this.store.products.values()].filter((p) => p.type !== 'variable' && p.status === 'publish' && p.sku);
      this.cache = { size: this.store.products.size, at: now, ids };
    }
    return this.cache.ids;
  }

  private tick(): void {
    try {
      const buyable = this.buyable();
      if (buyable.length === 0) return;
      if (this.placed.length > 0 && this.random.percent(10)) {
        const id = this.placed.splice(this.random.int(0, this.placed.length - 1), 1)[0]!;
        const order = this.store.orders.get(id);
        if (order && order.status === 'processing') updateOrder(this.store, order, { status: 'cancelled' });
        return;
      }
      const lines = Array.from({ length: this.random.int(1, 2) }, () => ({ sku: buyable[this.random.int(0, buyable.length - 1)]!.sku, quantity: this.random.int(1, 3) }));
      const order = createOrder(this.store, { status: 'processing', line_items: lines });
      this.placed.push(order.id);
      if (this.placed.length > 1000) this.placed.shift();
    } catch (err) {
      this.logger.warn({ err }, 'traffic generator could not place an order');
    }
  }
}
