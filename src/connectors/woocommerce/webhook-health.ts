import { describeError } from '../../core/errors.js';
import { events as defaultBus, type SyncEventBus } from '../../core/events.js';
import type { Logger } from '../../core/logger.js';
import type { WooClient } from './client.js';
import { wooWebhookSchema, type WooWebhook } from './schemas.js';
import { WOO_WEBHOOK_TOPICS, type WooWebhookTopic } from './webhooks.js';

/** Health of one needed webhook topic. */
export interface WooWebhookTopicHealth {
  topic: WooWebhookTopic;
  /** What WooCommerce showed (`missing`: no subscription for this topic and delivery URL). */
  status: 'active' | 'paused' | 'disabled' | 'missing';
  /** The subscription id, when one exists (after a re-creation: the new one). */
  webhookId?: number;
  /** What was done about it. */
  repaired?: 'reactivated' | 'created' | 'failed';
}

/** Settings of the health checker. */
export interface WooWebhookHealthOptions {
  instance: string;
  webhookSecret: string;
  /** Re-enable disabled and re-create missing subscriptions (config `repairWebhooks`). */
  repair: boolean;
  /** The URL WooCommerce must deliver to; without it, any subscription of the topic counts and missing ones cannot be re-created. */
  deliveryUrl?: string;
  bus?: SyncEventBus;
  log: Logger;
}

const RANK: Record<string, number> = { active: 3, paused: 2, disabled: 1 };
const sameUrl = (a: string | undefined, b: string) => (a ?? '').replace(/\/+$/, '') === b.replace(/\/+$/, '');

/**
 * Watches the site's webhook subscriptions. WooCommerce never retries a delivery and disables a
 * webhook after more than 5 consecutive failures, silently: `checkWebhooks()` lists `GET /webhooks`,
 * reports each needed topic (`woocommerce.webhook` event, a warning for anything not active) and,
 * when allowed, re-enables a disabled one (`PUT status: active`) or re-creates a missing one.
 * A paused webhook was paused by someone on purpose: it is reported, not touched.
 */
export class WooWebhookHealth {
  private deliveryUrl: string | undefined;
  private readonly bus: SyncEventBus;

  constructor(
    private readonly client: WooClient,
    private readonly opts: WooWebhookHealthOptions,
  ) {
    this.deliveryUrl = opts.deliveryUrl;
    this.bus = opts.bus ?? defaultBus;
  }

  /** Lists the site's webhooks, reports each needed topic and repairs when configured to. */
  async checkWebhooks(signal?: AbortSignal): Promise<WooWebhookTopicHealth[]> {
    const hooks = await this.list(signal);
    const out: WooWebhookTopicHealth[] = [];
    for (const topic of WOO_WEBHOOK_TOPICS) {
      const best = this.bestFor(hooks, topic);
      const status = best ? (best.status === 'active' || best.status === 'paused' || best.status === 'disabled' ? best.status : 'disabled') : 'missing';
      const h: WooWebhookTopicHealth = { topic, status, ...(best ? { webhookId: best.id } : {}) };
      this.bus.emit('woocommerce.webhook', { instance: this.opts.instance, topic, status });
      if (status !== 'active') this.opts.log.warn({ topic, status, webhookId: best?.id }, `WooCommerce webhook ${topic} is ${status}: deliveries are lost until it is fixed (the poller covers them meanwhile)`);
      if (this.opts.repair && (status === 'disabled' || (status === 'missing' && this.deliveryUrl))) await this.repair(h, signal);
      out.push(h);
    }
    return out;
  }

  /** Creates the needed subscriptions to `deliveryUrl` idempotently (and sets our secret on existing ones). */
  async ensureWebhooks(deliveryUrl: string, signal?: AbortSignal): Promise<WooWebhookTopicHealth[]> {
    this.deliveryUrl = deliveryUrl;
    const hooks = await this.list(signal);
    const out: WooWebhookTopicHealth[] = [];
    for (const topic of WOO_WEBHOOK_TOPICS) {
      const best = this.bestFor(hooks, topic);
      if (!best) {
        const created = await this.create(topic, deliveryUrl, signal);
        out.push({ topic, status: 'active', webhookId: created.id, repaired: 'created' });
        continue;
      }
      // The secret cannot be read back: set ours so signatures verify, and re-enable a disabled one.
      const body: Record<string, unknown> = { secret: this.opts.webhookSecret };
      if (best.status === 'disabled') body.status = 'active';
      const res = await this.client.request<unknown>({ method: 'PUT', path: `/webhooks/${best.id}`, body, signal });
      const updated = wooWebhookSchema.parse(res.body);
      out.push({ topic, status: updated.status as WooWebhookTopicHealth['status'], webhookId: best.id, ...(best.status === 'disabled' ? { repaired: 'reactivated' as const } : {}) });
    }
    return out;
  }

  private async repair(h: WooWebhookTopicHealth, signal?: AbortSignal): Promise<void> {
    try {
      if (h.status === 'disabled' && h.webhookId !== undefined) {
        // WooCommerce keeps failure_count on re-activation: one more failed delivery disables it again, and the next check repairs it again.
        await this.client.request({ method: 'PUT', path: `/webhooks/${h.webhookId}`, body: { status: 'active' }, signal });
        h.repaired = 'reactivated';
      } else if (h.status === 'missing' && this.deliveryUrl) {
        h.webhookId = (await this.create(h.topic, this.deliveryUrl, signal)).id;
        h.repaired = 'created';
      }
      this.opts.log.info({ topic: h.topic, webhookId: h.webhookId, repaired: h.repaired }, 'WooCommerce webhook repaired');
    } catch (err) {
      h.repaired = 'failed';
      this.opts.log.error({ topic: h.topic, err: describeError(err) }, 'could not repair WooCommerce webhook');
    }
  }

  private async create(topic: WooWebhookTopic, deliveryUrl: string, signal?: AbortSignal): Promise<WooWebhook> {
    const res = await this.client.request<unknown>({
      method: 'POST',
      path: '/webhooks',
      body: { name: `syncctl ${this.opts.instance} ${topic}`, topic, delivery_url: deliveryUrl, secret: this.opts.webhookSecret, status: 'active' },
      signal,
    });
    return wooWebhookSchema.parse(res.body);
  }

  private async list(signal?: AbortSignal): Promise<WooWebhook[]> {
    const rows = await this.client.all<unknown>('/webhooks', { per_page: 100, status: 'all' }, signal);
    return rows.flatMap((r) => {
      const p = wooWebhookSchema.safeParse(r);
      return p.success ? [p.data] : [];
    });
  }

  private bestFor(hooks: WooWebhook[], topic: string): WooWebhook | undefined {
    const url = this.deliveryUrl;
    const mine = hooks.filter((w) => w.topic === topic && (url === undefined || sameUrl(w.delivery_url, url)));
    return mine.sort((a, b) => (RANK[b.status] ?? 0) - (RANK[a.status] ?? 0))[0];
  }
}
