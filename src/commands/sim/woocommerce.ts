import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { channelSimulatorFlags, numberFlag } from '../../cli/sim-flags.js';
import { getLogger, type LogLevel } from '../../core/logger.js';
import { startWooCommerceSimulator } from '../../simulators/woocommerce/index.js';


/** Runs the WooCommerce REST (wc/v3) simulator until SIGINT/SIGTERM. */
export default class SimWooCommerce extends BaseCommand<typeof SimWooCommerce> {
  static override summary = 'Run a WooCommerce REST API (wc/v3) simulator with webhooks.';
  static override description = 'Prints one JSON line (site URL, API URL, consumer key/secret, control URL) on stdout when ready, logs to stderr, and runs until SIGINT/SIGTERM. See docs/simulators/woocommerce.md.';
  static override examples = ['<%= config.bin %> sim woocommerce --port 8081 --products 1000 --variations-per-product 3 --seed 2 --drop-webhooks 5'];
  static override enableJsonFlag = false;
  static override defaultLogLevel: LogLevel = 'info';

  static override flags = {
    ...channelSimulatorFlags,
    'site-url': Flags.string({ description: 'Public site URL (home_url) if not http://host:port.' }),
    products: Flags.integer({ description: 'Number of products.', default: 20 }),
    'variations-per-product': Flags.integer({ description: '0 = simple products, M = variable products with M variations.', default: 0, aliases: ['variants-per-product'] }),
    'catalog-seed': Flags.integer({ description: 'Seed of the values shared by overlapping stores.', default: 1 }),
    'parent-managed-stock-ratio': numberFlag('Share (0..1) of variable products whose stock is managed by the product (variations show manage_stock "parent").'),
    'repeat-product-updated': Flags.integer({ description: 'Extra product.updated deliveries (0..2) after each one, as WooCommerce sends for one save.', min: 0, max: 2 }),
    'skip-order-webhooks': numberFlag('Percent of order webhooks skipped (a background job held the order).'),
    throttle: numberFlag('Percent of API requests answered 429 (host throttle).'),
    latency: Flags.integer({ description: 'Latency added to each API request, ms.' }),
    'coalesce-window': Flags.integer({ description: 'Webhook queue delay (ms): saves in this window give one delivery.' }),
    'require-oauth': Flags.boolean({ description: 'Ignore HTTP Basic over plain http, as real WooCommerce does.' }),
    'control-token': Flags.string({ description: 'Require this x-sim-token on /_sim requests.', env: 'SYNCCTL_SIM_CONTROL_TOKEN' }),
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const sim = await startWooCommerceSimulator({
      port: f.port, host: f.host, siteUrl: f['site-url'], products: f.products, variationsPerProduct: f['variations-per-product'],
      seed: f.seed, catalogSeed: f['catalog-seed'], missingSkuRatio: f['missing-sku-ratio'], extraSkus: f['extra-skus'],
      quantityDrift: f['quantity-drift'], duplicateSkus: f['duplicate-skus'], coalesceWindowMs: f['coalesce-window'],
      parentManagedStockRatio: f['parent-managed-stock-ratio'],
      ordersPerSecond: f['orders-per-second'], requireOAuthOverHttp: f['require-oauth'], controlToken: f['control-token'],
      faults: {
        dropWebhooksPercent: f['drop-webhooks'] ?? 0, duplicateWebhooksPercent: f['duplicate-webhooks'] ?? 0, delayWebhooksMs: f['delay-webhooks'] ?? 0,
        badSignatureWebhooksPercent: f['bad-signature-webhooks'] ?? 0, throttlePercent: f.throttle ?? 0, throttleStatus: 429, latencyMs: f.latency ?? 0,
        repeatProductUpdated: f['repeat-product-updated'] ?? 0, skipOrderWebhooksPercent: f['skip-order-webhooks'] ?? 0,
      },
    });
    process.stdout.write(`${JSON.stringify(sim.info)}\n`);
    getLogger('sim.woocommerce').info({ siteUrl: sim.baseUrl, products: f.products }, 'WooCommerce simulator ready');
    const signal = await this.waitForShutdown();
    getLogger('sim.woocommerce').info({ signal }, 'stopping WooCommerce simulator');
    await sim.close();
  }
}
