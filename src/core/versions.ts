/**
 * Source versions are `updated_at` timestamps (Shopify, WooCommerce) or WAL positions (the ERP,
 * as zero-padded decimal strings). Compares two versions of the same source: negative when
 * `a` is older. Unknown (null) is older than anything.
 */
export function compareVersions(a: string | null | undefined, b: string | null | undefined): number {
  if (a === b) return 0;
  if (a === null || a === undefined || a === '') return -1;
  if (b === null || b === undefined || b === '') return 1;
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (!Number.isNaN(ta) && !Number.isNaN(tb) && ta !== tb) return ta < tb ? -1 : 1;
  if (!Number.isNaN(ta) && !Number.isNaN(tb)) return 0;
  return a < b ? -1 : 1;
}

/** A WAL position (LSN as a number or `X/Y`) as a comparable version string. */
export function lsnVersion(lsn: number | bigint | string): string {
  if (typeof lsn === 'string' && lsn.includes('/')) {
    const [hi, lo] = lsn.split('/');
    return ((BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`)).toString().padStart(20, '0');
  }
  return BigInt(lsn).toString().padStart(20, '0');
}
