import type { SyncConfig } from '../config/schema.js';
import { sourceKey } from '../core/model.js';
import { createWooCommerceConnector } from '../connectors/woocommerce/index.js';
import { createShopifyConnector } from '../connectors/shopify/index.js';
import { createErpConnector } from '../connectors/erp/index.js';
import { driftCheckTasks } from '../services/diff/drift-check.js';
import type { ConnectorFactory } from './daemon.js';
import type { ConnectorSet } from './connector-set.js';

/** Where platforms deliver an instance's webhooks. */
export function webhookUrl(config: SyncConfig, platform: string, instance: string): string {
  const { host, port } = config.http.public;
  const base = config.http.publicUrl ?? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  return `${base.replace(/\/$/, '')}/webhooks/${platform}/${instance}`;
}

/**
 * Builds the connectors named in config: every Shopify store and WooCommerce site (webhook
 * intake, polling, writing, webhook health) and the ERP (CDC source, writer, Connect supervisor).
 */
export const buildConnectorSet: ConnectorFactory = async (config, ctx) => {
  const set: ConnectorSet = {
    webhookSources: new Map(),
    polled: [],
    sinks: new Map(),
    leaderTasks: [],
    services: [],
    close: async () => undefined,
  };
  for (const [instance, cfg] of Object.entries(config.sources.shopify)) {
    const shop = createShopifyConnector(instance, cfg, { skuRule: config.identity.sku });
    const url = webhookUrl(config, 'shopify', instance);
    set.webhookSources.set(`shopify/${instance}`, shop.source);
    set.polled.push({ connector: shop.source, intervalMs: cfg.pollIntervalSeconds * 1000 });
    set.sinks.set(sourceKey('shopify', instance), shop.sink);
    if (config.daemon.registerWebhooks) {
      set.leaderTasks.push({
        name: `webhooks:shopify:${instance}`,
        intervalMs: 300_000,
        run: async (signal) => {
          // Shopify may remove a subscription after repeated failures: re-check every few minutes.
          await shop.subscriptions.ensureWebhooks(url, signal);

        },
      });
    }
  }
  for (const [instance, cfg] of Object.entries(config.sources.woocommerce)) {
    const deliveryUrl = webhookUrl(config, 'woocommerce', instance);
    const woo = createWooCommerceConnector(instance, cfg, { deliveryUrl });
    set.webhookSources.set(`woocommerce/${instance}`, woo.source);
    set.polled.push({ connector: woo.source, intervalMs: cfg.pollIntervalSeconds * 1000 });
    set.sinks.set(sourceKey('woocommerce', instance), woo.sink);
    let ensured = !config.daemon.registerWebhooks;
    set.leaderTasks.push({
      name: `webhook-health:woocommerce:${instance}`,
      intervalMs: 60_000,
      run: async (signal) => {
        if (!ensured) {
          await woo.health.ensureWebhooks(deliveryUrl, signal);
          ensured = true;
        } else await woo.health.checkWebhooks(signal);
      },
    });
  }
  // The scheduled drift check (sync.driftCheck): one leader task per pair.
  set.leaderTasks.push(...driftCheckTasks(config, ctx.pool));
  if (config.sources.erp) {
    const erp = createErpConnector(config, { pool: ctx.pool, kafka: ctx.kafka, store: ctx.store, groupPrefix: config.daemon.groupPrefix });
    set.sinks.set('erp', erp.sink);
    set.services.push(erp.source);
    set.leaderTasks.push(erp.supervisor);
    const close = set.close;
    set.close = async () => {
      await close();
      await erp.close();
    };
  }
  return set;
};
