import type { SyncConfig } from '../config/schema.js';
import { PermanentError } from '../core/errors.js';
import { events as bus } from '../core/events.js';
import { getLogger } from '../core/logger.js';
import type { SubscriptionReport } from '../connectors/shopify/subscriptions.js';
import { sourceKey } from '../core/model.js';
import { createWooCommerceConnector } from '../connectors/woocommerce/index.js';
import { createShopifyConnector } from '../connectors/shopify/index.js';
import { createErpConnector } from '../connectors/erp/index.js';
import { driftCheckTasks } from '../services/diff/drift-check.js';
import { applyCatalog } from '../services/catalog/index.js';
import type { ConnectorFactory } from './daemon.js';
import { checkDeletions } from '../pipeline/intake/deletion-check.js';
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
    checks: [],
    services: [],
    close: async () => undefined,
  };
  for (const [instance, cfg] of Object.entries(config.sources.shopify)) {
    const shop = createShopifyConnector(instance, cfg, { skuRule: config.identity.sku });
    const url = webhookUrl(config, 'shopify', instance);
    set.webhookSources.set(`shopify/${instance}`, shop.source);
    set.polled.push({ connector: shop.source, intervalMs: cfg.pollIntervalSeconds * 1000 });
    set.sinks.set(sourceKey('shopify', instance), shop.sink);
    set.checks!.push({
      name: `credentials:shopify:${instance}`,
      check: () => {
        const s = shop.auth.status();
        return s.state === 'refused' ? { ok: false, detail: s.error!.message } : { ok: true, detail: `${s.mode}${s.state === 'unknown' ? ' (not used yet)' : ''}` };
      },
    });
    if (config.daemon.registerWebhooks) {
      // Shopify deletes a subscription after 8 failed retries of a delivery (about 4 hours of an
      // unreachable intake) and tells nobody: the leader lists them when elected (a daemon that was
      // down checks at once), after an outage of PostgreSQL or Kafka (the intake answered errors),
      // and every `subscriptionCheckSeconds`, and creates what is missing; the
      // poller covers the changes whose deliveries were lost.
      const name = `subscriptions:shopify:${instance}`;
      const log = getLogger('shopify.subscriptions');
      set.leaderTasks.push({
        name: `webhooks:shopify:${instance}`,
        intervalMs: cfg.subscriptionCheckSeconds * 1000,
        afterOutage: true,
        run: async (signal) => {
          const previous = (await ctx.pool.query<{ value: SubscriptionReport }>('select value from checkpoints where name = $1', [name])).rows[0]?.value ?? null;
          const report = await shop.subscriptions.check(url, previous, {
            signal,
            onRecreated: (topic) => {
              log.warn({ instance, topic, callbackUrl: url }, 'a Shopify webhook subscription had disappeared (Shopify deletes one after 8 failed retries); created it again, the poller covers the gap');
              bus.emit('shopify.subscription.recreated', { instance, topic });
            },
          });
          await ctx.pool.query(
            `insert into checkpoints (name, value, updated_at) values ($1, $2, now()) on conflict (name) do update set value = excluded.value, updated_at = now()`,
            [name, JSON.stringify(report)],
          );
          if (report.error) throw new PermanentError('SHOPIFY_SUBSCRIPTION_REFUSED', report.error);
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
    // WooCommerce sends no webhook for a permanent delete, a batch delete or a deleted variation.
    set.leaderTasks.push({
      name: `deletions:woocommerce:${instance}`,
      intervalMs: cfg.deletionCheckSeconds * 1000,
      run: async (signal) => {
        await checkDeletions(ctx.pool, ctx.store, sourceKey('woocommerce', instance), woo.deletions, { signal });
      },
    });
  }
  // Catalog sync (catalog.enabled): the leader plans the missing listings and archivals; the writers execute them.
  if (config.catalog.enabled) {
    const log = getLogger('catalog');
    set.leaderTasks.push({
      name: 'catalog',
      intervalMs: config.catalog.intervalSeconds * 1000,
      run: async (signal) => {
        const r = await applyCatalog(config, ctx.pool, { waitSeconds: 0, signal });
        const count = (k: 'create' | 'archive' | 'incomplete') => r.plan.channels.reduce((n, c) => n + c[k].length, 0);
        if (r.planned > 0 || count('archive') > 0) log.info({ planned: r.planned, creates: count('create'), archives: count('archive'), incomplete: count('incomplete') }, 'catalog sync planned listings');
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
