/** The Shopify Admin GraphQL simulator: public entry points. */
export { startShopifySimulator, resolveApiVersion, type ShopifySimulator, type ShopifySimInfo, type ShopifySimDeps } from './server.js';
export {
  shopifySimOptionsSchema, PLANS, SUPPORTED_API_VERSIONS, PINNED_API_VERSION, WEBHOOK_RETRY_DELAYS_S,
  type ShopifySimOptions, type ShopifySimOptionsInput, type ShopifyPlan, type SimFaults, type WebhookFaults,
} from './options.js';
export { ManualClock, systemClock, type SimClock } from './clock.js';
export { signWebhook, type DeliveryRecord } from './webhooks.js';
export { sharedSku, baseOf, CATALOG_EPOCH } from './catalog.js';
export { SCHEMA_SDL_URL } from './graphql-endpoint.js';
export type { WriteLogEntry } from './state.js';
