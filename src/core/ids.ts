import { createHash, randomUUID } from 'node:crypto';

/** How SKUs are normalised before matching across platforms (config `identity.sku`). */
export interface SkuNormalisation {
  /** Remove leading and trailing white space. */
  trim: boolean;
  /** Case folding: keep as is, or fold to upper/lower case. */
  case: 'preserve' | 'upper' | 'lower';
}

/** Normalises one SKU; returns null for a missing or blank SKU (which can never be matched). */
export function normaliseSku(raw: unknown, rule: SkuNormalisation): string | null {
  if (typeof raw !== 'string' && typeof raw !== 'number') return null;
  let sku = String(raw);
  if (rule.trim) sku = sku.trim();
  if (rule.case === 'upper') sku = sku.toUpperCase();
  else if (rule.case === 'lower') sku = sku.toLowerCase();
  return sku.length > 0 ? sku : null;
}

/** JSON with object keys sorted, so equal payloads have equal bytes whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as Record<string, unknown>).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** SHA-256 hex of the canonical JSON of a payload: the `checksum` column of `source_events`. */
export function payloadChecksum(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/** A new random UUID (v4). */
export const newId = (): string => randomUUID();

/** A deterministic UUID (v5-like, SHA-1 based) from a name, for idempotent ids derived from content. */
export function uuidFromName(name: string): string {
  const h = createHash('sha1').update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
