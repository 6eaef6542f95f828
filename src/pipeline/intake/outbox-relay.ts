import pg from 'pg';
import { getLogger } from '../../core/logger.js';
import { events as bus, type SyncEventBus } from '../../core/events.js';
import { describeError } from '../../core/errors.js';
import { sleep } from '../../core/retry.js';
import type { KafkaBus } from '../kafka/bus.js';
import type { PipelineTopics } from '../kafka/topics.js';
import { OUTBOX_CHANNEL, rowToRawEvent } from './event-store.js';

/** Splits a list into chunks whose JSON sizes add up to at most `maxBytes` (one item at least per chunk). */
export function chunksByBytes<T>(list: T[], maxBytes: number): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let size = 0;
  for (const item of list) {
    const n = Buffer.byteLength(JSON.stringify(item)) + 100;
    if (cur.length && size + n > maxBytes) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(item);
    size += n;
  }
  if (cur.length) out.push(cur);
  return out;
}

/** Settings of the relay. */
export interface OutboxRelayOptions {
  /** Rows published per round. */
  batchSize: number;
  /** Fallback poll interval when no NOTIFY arrives (ms). */
  idlePollMs: number;
}

/**
 * Publishes unpublished `source_events` rows to their platform's raw topic, keyed by SKU (or the
 * entity's id), then marks them published. A crash between the two republishes (at least
 * once); consumers deduplicate by event id. Rows are claimed with SKIP LOCKED, so several
 * daemons can relay at once.
 */
export class OutboxRelay {
  private readonly log = getLogger('relay');
  private running = false;
  private wake?: () => void;
  /** A NOTIFY arrived since the last round started (so none is lost while relaying). */
  private dirty = false;
  private listener?: pg.Client;
  private loop?: Promise<void>;

  constructor(
    private readonly pool: pg.Pool,
    private readonly databaseUrl: string,
    private readonly kafka: KafkaBus,
    private readonly topics: PipelineTopics,
    private readonly opts: OutboxRelayOptions = { batchSize: 1000, idlePollMs: 1000 },
    private readonly instrumentation: SyncEventBus = bus,
  ) {}

  /** Starts listening and relaying. */
  async start(): Promise<void> {
    this.running = true;
    await this.listen();
    this.loop = this.run();
  }

  /** Publishes everything pending once (used by tests and by drain). Returns rows published. */
  async relayOnce(): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const r = await client.query(
        `select * from source_events where published_at is null order by received_at, event_id limit $1 for update skip locked`,
        [this.opts.batchSize],
      );
      if (r.rowCount === 0) {
        await client.query('COMMIT');
        return 0;
      }
      const evs = r.rows.map(rowToRawEvent);
      const byTopic = new Map<string, typeof evs>();
      for (const e of evs) {
        const topic = this.topics.raw[e.platform];
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), e]);
      }
      for (const [topic, list] of byTopic) {
        // Requests stay well under the broker's 1 MB message.max.bytes, whatever the event sizes.
        for (const chunk of chunksByBytes(list, 512 * 1024)) {
          await this.kafka.publish(
            topic,
            chunk.map((e) => ({ key: e.sku ?? e.entityRef, value: e, headers: { 'syncctl-event-id': e.eventId, 'syncctl-source': `${e.platform}:${e.instance}` }, timestamp: Date.parse(e.receivedAt) })),
          );
        }
        this.instrumentation.emit('events.published', { platform: list[0]!.platform, count: list.length });
      }
      await client.query(`update source_events set published_at = now(), status = 'PUBLISHED' where event_id = any($1::uuid[])`, [evs.map((e) => e.eventId)]);
      await client.query('COMMIT');
      return evs.length;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Stops after the current round (pending rows stay for the next start). */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.listener?.end().catch(() => undefined);
    this.listener = undefined;
  }

  private async listen(): Promise<void> {
    try {
      const c = new pg.Client({ connectionString: this.databaseUrl, application_name: 'syncctl relay' });
      c.on('error', (err) => {
        this.log.warn({ err: err.message }, 'relay LISTEN connection lost; falling back to polling until it reconnects');
        this.listener = undefined;
      });
      await c.connect();
      await c.query(`LISTEN ${OUTBOX_CHANNEL}`);
      c.on('notification', () => {
        this.dirty = true;
        this.wake?.();
      });
      this.listener = c;
    } catch (err) {
      this.log.warn({ err: describeError(err) }, 'relay cannot LISTEN; polling only');
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        this.dirty = false;
        const n = await this.relayOnce();
        failures = 0;
        if (n >= this.opts.batchSize) continue; // more waiting
      } catch (err) {
        failures++;
        const delay = Math.min(30_000, 200 * 2 ** Math.min(failures, 8));
        this.log.warn({ err: describeError(err), delay }, 'outbox relay failed; retrying');
        this.instrumentation.emit('error', { component: 'relay', errorClass: 'retriable', code: describeError(err).code ?? 'RELAY_FAILED' });
        await sleep(delay).catch(() => undefined);
        continue;
      }
      if (!this.listener && this.running) await this.listen();
      if (this.dirty || !this.running) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.opts.idlePollMs);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }
}
