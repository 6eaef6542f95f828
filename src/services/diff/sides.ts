/**
 * The two sides of a diff: `shopify[:instance]`, `woocommerce[:instance]` or `erp`, resolved
 * against the configured sources. A side names a live platform, never syncctl's own state.
 */
import { ConfigError } from '../../core/errors.js';
import { sourceKey, type Platform, type SourceKey } from '../../core/model.js';
import type { SyncConfig } from '../../config/schema.js';

/** One resolved side of a diff. */
export interface DiffSide {
  /** `shopify:main`, `woocommerce:outlet` or `erp`. */
  key: SourceKey;
  platform: Platform;
  /** Instance name (`default` for the ERP). */
  instance: string;
  /** Units this channel keeps back from what it shows (config `buffer`; 0 for the ERP). */
  buffer: number;
  /** This side is the configured stock authority (`sync.authority`). */
  authority: boolean;
}

/** Instance chosen per platform by flags (`--shopify main`, `--woocommerce outlet`). */
export type InstanceChoice = Partial<Record<'shopify' | 'woocommerce', string>>;

const PLATFORMS = ['shopify', 'woocommerce', 'erp'] as const;

/**
 * Resolves `spec` (`shopify`, `shopify:eu`, `woocommerce`, `erp`). Without an instance, the
 * `--<platform>` flag decides, else the only configured instance. Every mistake is a ConfigError
 * that names the configured instances.
 */
export function resolveSide(spec: string, config: SyncConfig, choice: InstanceChoice = {}): DiffSide {
  const [platformText, explicit, ...rest] = spec.trim().toLowerCase().split(':');
  const platform = PLATFORMS.find((p) => p === platformText);
  if (!platform || rest.length) {
    throw new ConfigError('DIFF_BAD_SIDE', `"${spec}" is not a side: use shopify[:instance], woocommerce[:instance] or erp.`, { hint: 'Example: syncctl diff shopify woocommerce --shopify main' });
  }
  const authority = config.sync.authority;
  if (platform === 'erp') {
    if (!config.sources.erp) throw new ConfigError('ERP_NOT_CONFIGURED', 'sources.erp is not configured, so there is no ERP side to compare.', { hint: 'Add sources.erp.databaseUrl to the config.' });
    return { key: 'erp', platform, instance: 'default', buffer: 0, authority: authority === 'erp' };
  }
  const configured = config.sources[platform];
  const names = Object.keys(configured);
  const flag = choice[platform];
  if (explicit && flag && explicit !== flag) {
    throw new ConfigError('DIFF_AMBIGUOUS_INSTANCE', `"${spec}" and --${platform} ${flag} name different instances.`, { hint: `Use one of them.` });
  }
  const instance = explicit || flag || (names.length === 1 ? names[0] : undefined);
  const known = names.length ? names.join(', ') : 'none';
  if (!instance) {
    throw new ConfigError(names.length ? 'DIFF_INSTANCE_REQUIRED' : 'DIFF_NO_INSTANCE', names.length ? `Several ${platform} instances are configured (${known}): say which one.` : `No ${platform} instance is configured (sources.${platform}).`, {
      hint: names.length ? `Add --${platform} <instance> or write ${platform}:<instance>.` : `Add sources.${platform}.<name> to the config.`,
    });
  }
  const cfg = configured[instance];
  if (!cfg) {
    throw new ConfigError('DIFF_UNKNOWN_INSTANCE', `There is no ${platform} instance "${instance}" in the config (configured: ${known}).`, { hint: `Use one of: ${known}.` });
  }
  const key = sourceKey(platform, instance);
  return { key, platform, instance, buffer: cfg.buffer, authority: authority === key };
}

/** The pair's name as metrics and checkpoints spell it: `<a>-><b>`. */
export const pairName = (a: DiffSide | SourceKey, b: DiffSide | SourceKey): string => `${typeof a === 'string' ? a : a.key}->${typeof b === 'string' ? b : b.key}`;

/** Splits a pair name (`erp->shopify:main`) into its two side specs. */
export function parsePair(pair: string): [string, string] {
  const parts = pair.split('->');
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw new ConfigError('DIFF_BAD_PAIR', `"${pair}" is not a pair: write <side>-><side>, e.g. erp->shopify:main.`);
  return [parts[0].trim(), parts[1].trim()];
}
