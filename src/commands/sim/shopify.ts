import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { channelSimulatorFlags, numberFlag } from '../../cli/sim-flags.js';
import { getLogger, type LogLevel } from '../../core/logger.js';
import { startShopifySimulator } from '../../simulators/shopify/index.js';

const pct = (v: number | undefined) => (v ?? 0) / 100;

/** Runs the Shopify Admin GraphQL simulator until SIGINT/SIGTERM. */
export default class SimShopify extends BaseCommand<typeof SimShopify> {
  static override summary = 'Run a Shopify Admin GraphQL API simulator (2026-04) with webhooks and bulk operations.';
  static override description = 'Prints one JSON line (GraphQL URL, access token, client secret, control URL) on stdout when ready, logs to stderr, and runs until SIGINT/SIGTERM. See docs/simulators/shopify.md.';
  static override examples = ['<%= config.bin %> sim shopify --port 8080 --products 1000 --variants-per-product 3 --seed 2 --plan plus --drop-webhooks 5'];
  static override enableJsonFlag = false;
  static override defaultLogLevel: LogLevel = 'info';

  static override flags = {
    ...channelSimulatorFlags,
    shop: Flags.string({ description: 'Shop handle (<shop>.myshopify.com).', default: 'sim-shop' }),
    'access-token': Flags.string({ description: 'Admin API access token to expect.', env: 'SYNCCTL_SIM_SHOPIFY_TOKEN' }),
    'client-secret': Flags.string({ description: 'App client secret (webhook HMAC key).', env: 'SYNCCTL_SIM_SHOPIFY_SECRET' }),
    plan: Flags.option({ options: ['standard', 'advanced', 'plus', 'enterprise'] as const, default: 'standard', description: 'Plan (sets the cost bucket).' })(),
    products: Flags.integer({ description: 'Number of products.', default: 50 }),
    'variants-per-product': Flags.integer({ description: 'Variants per product.', default: 3 }),
    locations: Flags.integer({ description: 'Number of locations.', default: 1 }),
    'webhook-retry-scale': numberFlag('Multiplier of Shopify\'s retry schedule (8 retries over ~4 h); 0.001 = seconds become ms.'),
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
