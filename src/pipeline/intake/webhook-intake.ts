import type pg from 'pg';
import { getLogger } from '../../core/logger.js';
import { events as bus, type SyncEventBus } from '../../core/events.js';
import { describeError, isRetriable } from '../../core/errors.js';
import { sourceKey } from '../../core/model.js';
import type { NewRawEvent, SourceConnector, WebhookRequest } from '../../connectors/types.js';
import { WebhookRejectedError } from '../../connectors/webhook-errors.js';
import type { EventStore } from './event-store.js';
import { GroupCommit } from './group-commit.js';

/** Platforms whose name may appear as a metric label even when the instance is unknown. */
const KNOWN_PLATFORMS = new Set(['shopify', 'woocommerce']);

/** The HTTP answer of the intake to one delivery. */
export interface IntakeResponse {
  status: number;
  body: Record<string, unknown>;
}

/**
 * The webhook intake: finds the instance, lets its connector verify the signature on the raw
 * body (constant time, before parsing) and parse it, stores the events once, and only then
 * acknowledges (deliveries arriving together share one statement: group commit). A rejected
 * delivery stores nothing and is counted with its reason.
 */
export class WebhookIntake {
  private readonly log = getLogger('intake');
  /** Deliveries arriving while a store runs are stored together by the next statement. */
  private readonly group: GroupCommit;
  /** When a rejection of each kind was last logged, and how many were not logged since. */
  private readonly logged = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly pool: pg.Pool,
    store: EventStore,
    private readonly sources: Map<string, SourceConnector>,
    private readonly instrumentation: SyncEventBus = bus,
  ) {
    this.group = new GroupCommit(store);
  }

  /**
   * Metric labels of a delivery: the instance when it is configured, else `unknown` (the path is
   * chosen by whoever sends: forged paths must not create metric series).
   */
  labels(platform?: string, instance?: string): { platform: string; instance: string } {
    if (platform && instance && this.sources.has(`${platform}/${instance}`)) return { platform, instance };
    return { platform: platform && KNOWN_PLATFORMS.has(platform) ? platform : 'unknown', instance: 'unknown' };
  }

  /** Handles one delivery to `/webhooks/<platform>/<instance>`. */
  async handle(platform: string, instance: string, req: WebhookRequest): Promise<IntakeResponse> {
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    const src = this.sources.get(`${platform}/${instance}`);
    if (!src) return this.reject(platform, instance, new WebhookRejectedError('unknown_instance', `no ${platform} instance named "${instance}" is configured`), seconds);
    let outcome;
    try {
      outcome = await src.verifyAndParse(req);
    } catch (err) {
      if (err instanceof WebhookRejectedError) return this.reject(platform, instance, err, seconds);
      if (isRetriable(err)) {
        // Verified but not processable right now (e.g. a SKU lookup failed): let the platform deliver it again.
        this.log.warn({ platform, instance, err: describeError(err) }, 'webhook accepted later: answering 503 so the platform retries');
        this.instrumentation.emit('webhook.received', { platform, instance, outcome: 'rejected', reason: 'unavailable', seconds: seconds() });
        return { status: 503, body: { ok: false, error: 'TEMPORARILY_UNAVAILABLE', message: 'try again later' } };
      }
      this.log.warn({ platform, instance, err: describeError(err) }, 'webhook could not be parsed');
      return this.reject(platform, instance, new WebhookRejectedError('malformed', 'the delivery could not be parsed'), seconds);
    }
    if (outcome.kind === 'ignored') {
      this.instrumentation.emit('webhook.received', { platform, instance, outcome: 'accepted', reason: 'ignored', seconds: seconds() });
      return { status: 200, body: { ok: true, ignored: outcome.reason } };
    }
    let r;
    let evs;
    try {
      evs = await enrichDeletions(this.pool, outcome.events);
      r = await this.group.add(evs);
    } catch (err) {
      // Verified but not stored (PostgreSQL unavailable): not the sender's fault, let it deliver again.
      this.log.warn({ platform, instance, err: describeError(err) }, 'webhook not stored: answering 503 so the platform retries');
      this.instrumentation.emit('webhook.received', { platform, instance, outcome: 'rejected', reason: 'unavailable', seconds: seconds() });
      return { status: 503, body: { ok: false, error: 'TEMPORARILY_UNAVAILABLE', message: 'try again later' } };
    }
    const dup = r.stored.length === 0 && evs.length > 0;
    this.instrumentation.emit('webhook.received', { platform, instance, outcome: dup ? 'duplicate' : 'accepted', seconds: seconds() });
    return { status: 200, body: { ok: true, stored: r.stored.length, duplicates: r.duplicates } };
  }

  private reject(platform: string, instance: string, err: WebhookRejectedError, seconds: () => number): IntakeResponse {
    const labels = this.labels(platform, instance);
    this.instrumentation.emit('webhook.received', { ...labels, outcome: 'rejected', reason: err.reason, seconds: seconds(), ...(err.topic ? { topic: err.topic } : {}) });
    // A flood of forgeries must not become a flood of log lines: one line per kind and 10 s.
    const key = `${labels.platform}/${labels.instance}/${err.reason}`;
    const now = Date.now();
    const last = this.logged.get(key);
    if (!last || now - last.at >= 10_000) {
      this.logged.set(key, { at: now, suppressed: 0 });
      this.log.warn({ ...labels, reason: err.reason, ...(err.topic ? { topic: err.topic } : {}), ...(last?.suppressed ? { alsoSince: last.suppressed } : {}) }, 'webhook rejected');
    } else last.suppressed++;
    return { status: err.status, body: { ok: false, error: err.code, message: err.message } };
  }
}

/** Fills the SKUs of deletion events from the entity map (platforms send only the product id). */
export async function enrichDeletions(pool: pg.Pool, evs: NewRawEvent[]): Promise<NewRawEvent[]> {
  const todo = evs.filter((e) => e.payload.kind === 'product_deleted' && e.payload.skus.length === 0);
  if (todo.length === 0) return evs;
  const r = await pool.query<{ source_key: string; product_id: string; sku: string }>(
    `select source_key, refs->>'productId' as product_id, sku from entity_map
      where (source_key, refs->>'productId') in (select * from unnest($1::text[], $2::text[]))`,
    [todo.map((e) => sourceKey(e.platform, e.instance)), todo.map((e) => (e.payload as { productId: string }).productId)],
  );
  const skus = new Map<string, string[]>();
  for (const x of r.rows) skus.set(`${x.source_key}|${x.product_id}`, [...(skus.get(`${x.source_key}|${x.product_id}`) ?? []), x.sku]);
  return evs.map((e) => {
    if (e.payload.kind !== 'product_deleted' || e.payload.skus.length) return e;
    const found = skus.get(`${sourceKey(e.platform, e.instance)}|${e.payload.productId}`) ?? [];
    return { ...e, payload: { ...e.payload, skus: found } };
  });
}
