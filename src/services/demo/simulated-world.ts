import type { ShopifyInstanceConfig, SyncConfig } from '../../config/schema.js';
import { ConfigError } from '../../core/errors.js';
import { startShopifySimulator, type ShopifySimOptionsInput, type ShopifySimulator } from '../../simulators/shopify/index.js';
import { startWooCommerceSimulator, type WooCommerceSimulator } from '../../simulators/woocommerce/index.js';
import { initErp } from '../../simulators/erp/index.js';

/** Size and liveliness of the simulated stores of the demo. */
export interface WorldOptions {
  products: number;
  variantsPerProduct: number;
}

/** The simulated stores and ERP the demo runs against, started from the config's sources. */
export interface SimulatedWorld {
  shopify: Map<string, ShopifySimulator>;
  woocommerce: Map<string, WooCommerceSimulator>;
  /** Sets the order rate of every store (0 stops the traffic). */
  setTraffic(ordersPerSecond: number): Promise<void>;
  close(): Promise<void>;
}

const LOCAL = /^(127\.0\.0\.1|localhost|\[::1\])$/;

/**
 * Starts a simulator for every Shopify store and WooCommerce site of the config whose URL is on
 * this machine (port and credentials from the config), with overlapping catalogs and some
 * deliberate drift (missing and extra SKUs, drifted quantities), and prepares the sample ERP.
 */
export async function startSimulatedWorld(config: SyncConfig, o: WorldOptions): Promise<SimulatedWorld> {
  const shopify = new Map<string, ShopifySimulator>();
  const woocommerce = new Map<string, WooCommerceSimulator>();
  const world: SimulatedWorld = {
    shopify,
    woocommerce,
    async setTraffic(rate) {
      await Promise.all([
        ...[...shopify.values()].map((s) => fetch(`${s.info.controlUrl}/traffic`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ordersPerSecond: rate }) })),
        ...[...woocommerce.values()].map(async (w) => w.setTraffic(rate)),
      ]);
    },
    async close() {
      await Promise.allSettled([...[...shopify.values()].map((s) => s.close()), ...[...woocommerce.values()].map((w) => w.close())]);
    },
  };
  try {
    let seed = 1;
    for (const [name, s] of Object.entries(config.sources.shopify)) {
      const url = new URL(s.url ?? `https://${s.shop}`);
      if (!LOCAL.test(url.hostname)) continue;
      shopify.set(
        name,
        await startShopifySimulator({
          port: Number(url.port),
          ...simulatorOfStore(s, seed++),
          catalog: { products: o.products, variantsPerProduct: o.variantsPerProduct, missingSkuRatio: 0.02, extraSkus: 2, quantityDrift: 0.2 },
        }).catch((err: Error) => {
          throw portError(`shopify:${name}`, url, err);
        }),
      );
    }
    for (const [name, w] of Object.entries(config.sources.woocommerce)) {
      const url = new URL(w.url);
      if (!LOCAL.test(url.hostname)) continue;
      woocommerce.set(
        name,
        await startWooCommerceSimulator({
          port: Number(url.port),
          consumerKey: w.consumerKey,
          consumerSecret: w.consumerSecret,
          seed: seed++,
          products: o.products,
          variationsPerProduct: o.variantsPerProduct > 1 ? o.variantsPerProduct : 0,
          missingSkuRatio: 0.02,
          extraSkus: 2,
          quantityDrift: 0.2,
          coalesceWindowMs: 200,
        }).catch((err: Error) => {
          throw portError(`woocommerce:${name}`, url, err);
        }),
      );
    }
    if (config.sources.erp) await initErp({ databaseUrl: config.sources.erp.databaseUrl, products: o.products, variantsPerProduct: o.variantsPerProduct });
    return world;
  } catch (err) {
    await world.close();
    throw err;
  }
}

/**
 * The Shopify simulator options that make it the store a config entry describes: its shop name,
 * credentials (a store with `clientId` is a Dev Dashboard app: no static token, only the grant)
 * and plan; webhook retries compressed for a demo or a benchmark.
 */
export function simulatorOfStore(s: ShopifyInstanceConfig, seed: number): ShopifySimOptionsInput {
  return { shop: s.shop.replace(/\.myshopify\.com$/, ''), accessToken: s.accessToken ?? null, clientId: s.clientId, clientSecret: s.clientSecret, plan: s.plan, seed, webhookRetryScale: 0.01 };
}

function portError(source: string, url: URL, err: Error): Error {
  if ((err as { code?: string }).code === 'EADDRINUSE' || /EADDRINUSE/.test(err.message)) {
    return new ConfigError('DEMO_PORT_TAKEN', `The simulator of ${source} cannot listen on ${url.host}: the port is taken.`, {
      hint: 'Is another demo or `syncctl sim` still running? Stop it, or change the source URL ports in the config.',
    });
  }
  return err;
}
