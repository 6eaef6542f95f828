/** The WooCommerce REST (wc/v3) simulator: start it in-process or via `syncctl sim woocommerce`. */
export { startWooCommerceSimulator, type WooCommerceSimulator, type WooSimInfo } from './server.js';
export { wooOptionsSchema, wooFaultsSchema, credentialsFromSeed, type WooCommerceSimulatorOptions, type ResolvedWooOptions, type WooFaults } from './options.js';
export { catalogSku, baseQuantity } from './catalog.js';
export { oauthBaseString, rfc3986 } from './auth.js';
export type { DeliveryRecord } from './webhooks.js';
export type { WriteLogEntry } from './model.js';
