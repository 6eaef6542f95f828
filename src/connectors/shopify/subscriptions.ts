/**
 * Webhook subscriptions of one store, managed idempotently: list first, keep what exists (same
 * topic and callback URL), create what is missing.
 */
import { PermanentError } from '../../core/errors.js';
import type { ShopifyClient } from './client.js';
import { loadDocument } from './documents.js';

/** The subscriptions syncctl needs (GraphQL enum names). */
export const SHOPIFY_SUBSCRIPTION_TOPICS = [
  'PRODUCTS_CREATE', 'PRODUCTS_UPDATE', 'PRODUCTS_DELETE', 'INVENTORY_LEVELS_UPDATE', 'ORDERS_CREATE', 'ORDERS_UPDATED', 'ORDERS_CANCELLED',
] as const;

/** One subscription. */
export interface ShopifySubscription { id: string; topic: string; uri: string }

/** What `ensureWebhooks` did. */
export interface EnsureResult { created: ShopifySubscription[]; kept: ShopifySubscription[] }

interface UserError { field: string[] | null; message: string }

/** Creates, lists and removes the store's webhook subscriptions. */
export class ShopifySubscriptions {
  constructor(private readonly client: ShopifyClient) {}

  /** Every subscription of the app on this store. */
  async list(signal?: AbortSignal): Promise<ShopifySubscription[]> {
    const out: ShopifySubscription[] = [];
    let after: string | null = null;
    for (;;) {
      const d: { webhookSubscriptions: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: ShopifySubscription[] } } =
        await this.client.request(loadDocument('WebhookSubscriptions'), { first: 100, after }, { signal });
      out.push(...d.webhookSubscriptions.nodes);
      if (!d.webhookSubscriptions.pageInfo.hasNextPage || !d.webhookSubscriptions.pageInfo.endCursor) return out;
      after = d.webhookSubscriptions.pageInfo.endCursor;
    }
  }

  /** Makes sure every needed topic is delivered to `callbackUrl` (idempotent). */
  async ensureWebhooks(callbackUrl: string, signal?: AbortSignal): Promise<EnsureResult> {
    const existing = await this.list(signal);
    const result: EnsureResult = { created: [], kept: [] };
    for (const topic of SHOPIFY_SUBSCRIPTION_TOPICS) {
      const same = existing.find((s) => s.topic === topic && s.uri === callbackUrl);
      if (same) { result.kept.push(same); continue; }
      const d = await this.client.request<{ webhookSubscriptionCreate: { webhookSubscription: ShopifySubscription | null; userErrors: UserError[] } }>(
        loadDocument('WebhookSubscriptionCreate'), { topic, sub: { uri: callbackUrl, format: 'JSON' } }, { signal });
      const p = d.webhookSubscriptionCreate;
      if (!p.webhookSubscription) {
        throw new PermanentError('SHOPIFY_SUBSCRIPTION_REFUSED', `Shopify refused the ${topic} subscription to ${callbackUrl}: ${p.userErrors.map((e) => e.message).join('; ')}`, {
          hint: 'Shopify needs a public https callback URL; check `http.publicUrl` (or the URL given to `connectors register`).', details: { topic, userErrors: p.userErrors },
        });
      }
      result.created.push(p.webhookSubscription);
    }
    return result;
  }

  /** Removes the subscriptions of syncctl's topics (only those to `callbackUrl` when given); returns how many. */
  async removeWebhooks(callbackUrl?: string, signal?: AbortSignal): Promise<number> {
    const mine = (await this.list(signal)).filter((s) => (SHOPIFY_SUBSCRIPTION_TOPICS as readonly string[]).includes(s.topic) && (callbackUrl === undefined || s.uri === callbackUrl));
    for (const s of mine) {
      const d = await this.client.request<{ webhookSubscriptionDelete: { deletedWebhookSubscriptionId: string | null; userErrors: UserError[] } }>(
        loadDocument('WebhookSubscriptionDelete'), { id: s.id }, { signal });
      const e = d.webhookSubscriptionDelete.userErrors[0];
      if (e) throw new PermanentError('SHOPIFY_SUBSCRIPTION_DELETE_FAILED', `cannot delete ${s.id}: ${e.message}`);
    }
    return mine.length;
  }
}
