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

/**
 * A topic's subscription as `status` shows it: `registered` (exists), `re-registered` (it went
 * missing, Shopify deletes one after 8 failed retries of a delivery, and was created again),
 * `missing` (does not exist now).
 */
export type SubscriptionState = 'registered' | 're-registered' | 'missing';

/** What the leader last found and did about a store's subscriptions (kept in `checkpoints` as `subscriptions:shopify:<instance>`). */
export interface SubscriptionReport {
  callbackUrl: string;
  checkedAt: string;
  topics: Array<{ topic: string; state: SubscriptionState; id?: string; at: string }>;
  /** Why a missing topic could not be created, if one could not. */
  error?: string;
}

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
      result.created.push(await this.create(topic, callbackUrl, signal));
    }
    return result;
  }

  /**
   * Lists the subscriptions and creates what is missing, against what the previous check found:
   * a topic registered before and missing now was deleted by Shopify, and is counted as
   * re-registered (`onRecreated`). A topic whose creation fails stays `missing`, with the error.
   */
  async check(callbackUrl: string, previous: SubscriptionReport | null, opts: { signal?: AbortSignal; now?: () => Date; onRecreated?: (topic: string) => void } = {}): Promise<SubscriptionReport> {
    const now = () => (opts.now ?? (() => new Date()))().toISOString();
    const before = new Map((previous?.callbackUrl === callbackUrl ? previous.topics : []).map((t) => [t.topic, t]));
    const existing = await this.list(opts.signal);
    const report: SubscriptionReport = { callbackUrl, checkedAt: now(), topics: [] };
    for (const topic of SHOPIFY_SUBSCRIPTION_TOPICS) {
      const same = existing.find((s) => s.topic === topic && s.uri === callbackUrl);
      const was = before.get(topic);
      if (same) {
        // A re-registration stays visible for a day; then it is just registered.
        const recent = was?.state === 're-registered' && was.id === same.id && Date.parse(report.checkedAt) - Date.parse(was.at) < 86_400_000;
        report.topics.push({ topic, state: recent ? 're-registered' : 'registered', id: same.id, at: recent || was?.id === same.id ? was!.at : report.checkedAt });
        continue;
      }
      try {
        const created = await this.create(topic, callbackUrl, opts.signal);
        const again = was !== undefined;
        if (again) opts.onRecreated?.(topic);
        report.topics.push({ topic, state: again ? 're-registered' : 'registered', id: created.id, at: now() });
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        report.error ??= err instanceof Error ? err.message : String(err);
        report.topics.push({ topic, state: 'missing', at: now() });
      }
    }
    return report;
  }

  private async create(topic: string, callbackUrl: string, signal?: AbortSignal): Promise<ShopifySubscription> {
    const d = await this.client.request<{ webhookSubscriptionCreate: { webhookSubscription: ShopifySubscription | null; userErrors: UserError[] } }>(
      loadDocument('WebhookSubscriptionCreate'), { topic, sub: { uri: callbackUrl, format: 'JSON' } }, { signal });
    const p = d.webhookSubscriptionCreate;
    if (!p.webhookSubscription) {
      throw new PermanentError('SHOPIFY_SUBSCRIPTION_REFUSED', `Shopify refused the ${topic} subscription to ${callbackUrl}: ${p.userErrors.map((e) => e.message).join('; ')}`, {
        hint: 'Shopify needs a public https callback URL; check `http.publicUrl` (or the URL given to `connectors register`).', details: { topic, userErrors: p.userErrors },
      });
    }
    return p.webhookSubscription;
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
