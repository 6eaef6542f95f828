/**
 * The Admin API versions syncctl accepts, with Shopify's end of support for each (a stable version
 * is supported for at least 12 months after its release). The default stays 2026-04 until the
 * project validates its documents against a later full schema (test/simulators/shopify-schema.test.ts).
 */

/** Version → first day it is no longer supported (UTC). */
export const SHOPIFY_API_VERSION_SUPPORT: Readonly<Record<string, string>> = {
  '2026-01': '2027-01-01',
  '2026-04': '2027-04-01',
  '2026-07': '2027-07-01',
  '2026-10': '2027-10-01',
};

/** The versions accepted in config, oldest first. */
export const SHOPIFY_API_VERSIONS = Object.keys(SHOPIFY_API_VERSION_SUPPORT);

/** The default (and the version the project's documents are validated against). */
export const DEFAULT_SHOPIFY_API_VERSION = '2026-04';

/** A configured version is flagged this many days before its end of support. */
export const VERSION_WARNING_DAYS = 90;

/**
 * A warning when `version` is less than {@link VERSION_WARNING_DAYS} days from its end of support
 * (or past it) on `now`; null otherwise. `where` names the store (`shopify:main`).
 */
export function apiVersionWarning(where: string, version: string, now: Date = new Date()): string | null {
  const end = SHOPIFY_API_VERSION_SUPPORT[version];
  if (!end) return null;
  const endMs = Date.parse(`${end}T00:00:00Z`);
  const left = endMs - now.getTime();
  if (left >= VERSION_WARNING_DAYS * 86_400_000) return null;
  const days = Math.ceil(left / 86_400_000);
  const newer = SHOPIFY_API_VERSIONS.filter((v) => v > version).join(', ');
  const next = newer ? ` Move \`apiVersion\` to a newer version (${newer}) after checking docs/connectors/shopify.md.` : '';
  if (days <= 0) return `${where}: Admin API ${version} reached its end of support on ${end}; Shopify now serves the oldest supported version instead.${next}`;
  return `${where}: Admin API ${version} reaches its end of support on ${end} (in ${days} day${days === 1 ? '' : 's'}).${next}`;
}

/** Warnings about the Shopify stores' configured versions on `now` (`config validate`, `status`). */
export function shopifyVersionWarnings(stores: Record<string, { apiVersion: string }>, now: Date = new Date()): string[] {
  return Object.entries(stores).flatMap(([i, s]) => apiVersionWarning(`shopify:${i}`, s.apiVersion, now) ?? []);
}
