/**
 * JSON as PHP's wp_json_encode writes it: slashes escaped (`\/`) and non-ASCII as `\uXXXX`.
 * Webhook signatures are computed over these exact bytes, so a receiver that re-serialises the
 * parsed body instead of hashing the raw bytes fails verification, as it would with real WooCommerce.
 */
export function phpJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/\//g, '\\/')
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
