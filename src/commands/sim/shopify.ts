import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { channelSimulatorFlags, numberFlag } from '../../cli/sim-flags.js';
import { getLogger, type LogLevel } from '../../core/logger.js';
import { startShopifySimulator } from '../../simulators/shopify/index.js';

const pct = (v: number | undefined) => (v ?? 0) / 100;

/** Runs the Shopify Admin GraphQL simulator until SIGINT/SIGTERM. */
export default class SimShopify extends BaseCommand<typeof SimShopify> {
  static override summary = 'Run a Shopify Admin GraphQL API simulator (2026-04) with webhooks and bulk operations.';
  static override description = 'Prints one JSON line (GraphQL URL, static access token, client id and secret, token URL, control URL) on stdout when ready, logs to stderr, and runs until SIGINT/SIGTERM. See docs/simulators/shopify.md.';
  static override examples = ['<%= config.bin %> sim shopify --port 8080 --products 1000 --variants-per-product 3 --seed 2 --plan plus --drop-webhooks 5'];
  static override enableJsonFlag = false;
  static override defaultLogLevel: LogLevel = 'info';

  static override flags = {
    ...channelSimulatorFlags,
    shop: Flags.string({ description: 'Shop handle (<shop>.myshopify.com).', default: 'sim-shop' }),
    'access-token': Flags.string({ description: 'Static Admin API access token to accept (an admin-created custom app).', env: 'SYNCCTL_SIM_SHOPIFY_TOKEN', exclusive: ['no-static-token'] }),
    'no-static-token': Flags.boolean({ description: 'Accept no static token: only tokens from the client credentials grant (a Dev Dashboard app).' }),
    'client-id': Flags.string({ description: 'App client id (client credentials grant).', env: 'SYNCCTL_SIM_SHOPIFY_CLIENT_ID' }),
    'client-secret': Flags.string({ description: 'App client secret (client credentials grant and webhook HMAC key).', env: 'SYNCCTL_SIM_SHOPIFY_SECRET' }),
    'token-lifetime': numberFlag('Lifetime in seconds of a token issued by the client credentials grant (default 86399, as Shopify).'),
    'webhook-retry-scale': numberFlag('Multiplier of Shopify\'s retry schedule (8 retries over ~4 h); 0.001 = seconds become ms.'),
    plan: Flags.option({ options: ['standard', 'advanced', 'plus', 'enterprise'] as const, default: 'standard', description: 'Plan (sets the cost bucket).' })(),
    products: Flags.integer({ description: 'Number of products.', default: 50 }),
    'variants-per-product': Flags.integer({ description: 'Variants per product.', default: 3 }),
    locations: Flags.integer({ description: 'Number of locations.', default: 1 }),
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const sim = await startShopifySimulator({
      port: f.port, host: f.host, shop: f.shop, accessToken: f['no-static-token'] ? null : f['access-token'], clientId: f['client-id'], clientSecret: f['client-secret'],
      tokenLifetimeSeconds: f['token-lifetime'], plan: f.plan, seed: f.seed,
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
