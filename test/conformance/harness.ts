import type { SinkConnector, SourceConnector, WebhookRequest } from '../../src/connectors/types.js';
import type { PlatformRefs } from '../../src/core/model.js';

/**
 * What a connector's test harness gives the shared conformance suite: the connector (source and
 * sink) pointed at its simulator, and platform-side actions through the simulator's control API.
 * Every connector (Shopify, WooCommerce, ERP) provides one; `suite.ts` runs the same cases on each.
 */
export interface ConformanceHarness {
  /** e.g. `shopify`, `woocommerce`, `erp`. */
  name: string;
  /** Starts the simulator (or database) and builds the connectors. */
  setup(): Promise<void>;
  teardown(): Promise<void>;
  source(): SourceConnector;
  sink(): SinkConnector;
  /** A SKU of the seeded catalog (i = 0, 1, 2...), all distinct and mapped. */
  sku(i: number): string;
  /** The platform ids of a SKU (as the sink needs them in `SinkWrite.refs`). */
  refsOf(sku: string): Promise<PlatformRefs>;
  /** Platform-side changes, as a merchant or a customer would make them. */
  platform: {
    setPrice(sku: string, price: string): Promise<void>;
    setStock(sku: string, available: number): Promise<void>;
    readStock(sku: string): Promise<number>;
    placeOrder(lines: Array<{ sku: string; quantity: number }>): Promise<string>;
    cancelOrder(orderId: string): Promise<void>;
    /** Optional: platforms or simulators that cannot delete products leave it out. */
    deleteProduct?(sku: string): Promise<void>;
  };
  /**
   * Webhook deliveries the platform sent since the last call, captured by the harness and
   * returned as the intake would receive them (null for a source without webhooks, e.g. the ERP).
   */
  takeDeliveries(): Promise<WebhookRequest[]> | null;
  /** A write the sink must refuse permanently (e.g. a product id that does not exist). */
  badWriteRefs(): PlatformRefs;
  /**
   * What the shared cases can exercise (default: all). A CDC source (the ERP) is not polled,
   * and the stock authority takes no absolute stock writes; such a harness turns these off and
   * covers the same behaviours through its own channel in its test file.
   */
  capabilities?: { poll?: boolean; absoluteStockWrites?: boolean };
}
