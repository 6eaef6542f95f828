const NON_ASCII = /[\u007f-\uffff]/;
const NON_ASCII_ALL = /[\u007f-\uffff]/g;

/**
 * JSON as PHP's wp_json_encode writes it: slashes escaped (`\/`) and non-ASCII as `\uXXXX`.
 * Webhook signatures are computed over these exact bytes, so a receiver that re-serialises the
 * parsed body instead of hashing the raw bytes fails verification, as it would with real WooCommerce.
 */
export function phpJson(value: unknown): string {
  const json = JSON.stringify(value).replaceAll('/', '\\/');
  // Most bodies are plain ASCII: a test is cheaper than a replace that finds nothing.
  return NON_ASCII.test(json) ? json.replace(NON_ASCII_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}
