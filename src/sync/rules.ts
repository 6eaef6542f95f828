import type { SyncConfig } from '../config/schema.js';
import { ConfigError } from '../core/errors.js';
import { sourceKey } from '../core/model.js';
import type { EngineRules, FieldPolicy } from './engine/types.js';

/** The engine's rules from config; checks that the stock authority exists. */
export function engineRules(config: SyncConfig): EngineRules {
  const channels = [
    ...Object.keys(config.sources.shopify).map((i) => sourceKey('shopify', i)),
    ...Object.keys(config.sources.woocommerce).map((i) => sourceKey('woocommerce', i)),
  ];
  const buffers: Record<string, number> = {};
  for (const [i, s] of Object.entries(config.sources.shopify)) buffers[sourceKey('shopify', i)] = s.buffer;
  for (const [i, s] of Object.entries(config.sources.woocommerce)) buffers[sourceKey('woocommerce', i)] = s.buffer;
  const authority = config.sync.authority;
  if (authority === 'erp' && !config.sources.erp) {
    throw new ConfigError('AUTHORITY_MISSING', 'sync.authority is "erp" but sources.erp is not configured.', {
      hint: 'Configure sources.erp, or set sync.authority to a channel (e.g. shopify:main) or "peer".',
    });
  }
  if (authority !== 'erp' && authority !== 'peer' && !channels.includes(authority)) {
    throw new ConfigError('AUTHORITY_MISSING', `sync.authority is "${authority}" but no such source is configured.`, { hint: `Configured channels: ${channels.join(', ') || 'none'}.` });
  }
  const fieldPolicies = { ...config.sync.fieldPolicies } as Record<string, FieldPolicy>;
  // With a product master (catalog sync), titles follow it: the listings it created carry its titles.
  const master = config.catalog.master;
  if (master && (fieldPolicies.title ?? 'ignore') === 'ignore') fieldPolicies.title = `priority:${master}`;
  return {
    authority,
    channels,
    buffers,
    fieldPolicies,
    conflictWindowMs: config.sync.conflictWindowSeconds * 1000,
    settleMs: config.daemon.settleSeconds * 1000,
  };
}
