import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { getLogger, type LogLevel } from '../../core/logger.js';
import { startShopifySimulator } from '../../simulators/shopify/index.js';

const num = (description: string) => Flags.custom<number>({ parse: async (s) => Number(s), description })();
const pct = (v: number | undefined) => (v ?? 0) / 100;

/** Runs the Shopify Admin GraphQL simulator until SIGINT/SIGTERM. */
export default class SimShopify extends BaseCommand<typeof SimShopify> {
  static override summary = 'Run a Shopify Admin GraphQL API simulator (2026-04) with webhooks and bulk operations.';
  static override description = 'Prints one JSON line (GraphQL URL, access token, client secret, control URL) on stdout when ready, logs to stderr, and runs until SIGINT/SIGTERM. See docs/simulators/shopify.md.';
  static override examples = ['<%= config.bin %> sim shopify --port 8080 --products 1000 --variants-per-product 3 --seed 2 --plan plus --drop-webhooks 5'];
  static override enableJsonFlag = false;
  static override defaultLogLevel: LogLevel = 'info';

  static override flags = {
    port: Flags.integer({ description: 'Port (0 = any free port).', default: 0 }),
    host: Flags.string({ description: 'Interface to listen on.', default: '127.0.0.1' }),
    shop: Flags.string({ description: 'Shop handle (<shop>.myshopify.com).', default: 'sim-shop' }),
    'access-token': Flags.string({ description: 'Admin API access token to expect.', env: 'SYNCCTL_SIM_SHOPIFY_TOKEN' }),
    'client-secret': Flags.string({ description: 'App client secret (webhook HMAC key).', env: 'SYNCCTL_SIM_SHOPIFY_SECRET' }),
    plan: Flags.option({ options: ['standard', 'advanced', 'plus', 'enterprise'] as const, default: 'standard', description: 'Plan (sets the cost bucket).' })(),
    products: Flags.integer({ description: 'Number of products.', default: 50 }),
    'variants-per-product': Flags.integer({ description: 'Variants per product.', default: 3 }),
    locations: Flags.integer({ description: 'Number of locations.', default: 1 }),
    seed: Flags.integer({ description: 'Seed of this store (missing/extra SKUs, drift, faults, traffic).', default: 1 }),
    'missing-sku-ratio': num('Share (0..1) of shared SKUs left out of this store.'),
    'extra-skus': Flags.integer({ description: 'Variants whose SKUs exist only in this store.' }),
    'quantity-drift': num('Share (0..1) of variants with a drifted quantity.'),
    'duplicate-skus': Flags.integer({ description: 'Variants reusing another variant\'s SKU.' }),
    'drop-webhooks': num('Percent of webhook deliveries dropped.'),
    'duplicate-webhooks': num('Percent of webhook deliveries sent twice.'),
    'delay-webhooks': Flags.integer({ description: 'Extra random delay 0..N ms before a delivery (reorders them).' }),
    'bad-signature-webhooks': num('Percent of deliveries signed with a wrong key.'),
    'webhook-retry-scale': num('Multiplier of Shopify\'s retry schedule (8 retries over ~4 h); 0.001 = seconds become ms.'),
    'orders-per-second': num('Orders placed per second by the traffic generator.'),
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const sim = await startShopifySimulator({
      port: f.port, host: f.host, shop: f.shop, accessToken: f['access-token'], clientSecret: f['client-secret'], plan: f.plan, seed: f.seed,
      catalog: {
        products: f.products, variantsPerProduct: f['variants-per-product'], locations: f.locations, missingSkuRatio: f['missing-sku-ratio'],
        extraSkus: f['extra-skus'], quantityDrift: f['quantity-drift'], duplicateSkus: f['duplicate-skus'],
      },
      faults: { webhooks: { dropRate: pct(f['drop-webhooks']), duplicateRate: pct(f['duplicate-webhooks']), delayMs: [0, f['delay-webhooks'] ?? 0], badSignatureRate: pct(f['bad-signature-webhooks']) } },
      webhookRetryScale: f['webhook-retry-scale'], ordersPerSecond: f['orders-per-second'],
    });
    process.stdout.write(`${JSON.stringify(sim.info)}\n`);
    const signal = await this.waitForShutdown();
    getLogger('sim.shopify').info({ signal }, 'stopping Shopify simulator');
    await sim.close();
  }
}
