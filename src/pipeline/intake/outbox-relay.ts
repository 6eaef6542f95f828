import pg from 'pg';
import { getLogger } from '../../core/logger.js';
import { events as bus, type SyncEventBus } from '../../core/events.js';
import { describeError } from '../../core/errors.js';
import { sleep } from '../../core/retry.js';
import type { KafkaBus } from '../kafka/bus.js';
import type { PipelineTopics } from '../kafka/topics.js';
import type { RawEvent } from '../../core/model.js';
import type { SkuNormalisation } from '../../core/ids.js';
import type { DeadLetter } from '../../db/dead-letters.js';
import type { DeadLetterSink } from '../dead-letter-sink.js';
import { canonicalMessages, reportTransformed, transformRaw, type RawInput } from '../transform/embedded.js';
import { OUTBOX_CHANNEL } from './event-store.js';

/** `ts` (a timestamptz expression) as JavaScript's toISOString() writes it. */
function isoUtc(ts: string): string {
  return `to_char(${ts} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/** One event as the relay reads it from the outbox. */
interface RelayRow {
  seq: string;
  platform: RawEvent['platform'];
  instance: string;
  event_id: string;
  key: string;
  ts: string;
  value: string;
}

/** Outbox entries claimed by an open transaction, with their events. */
interface Round {
  client: pg.PoolClient;
  rows: RelayRow[];
  /** Returns the client to the pool (destroyed when given the error that broke it). */
  release: (err?: Error) => void;
}

/** What the relay publishes for each event. */
export interface RelayOutput {
  /** The event itself, on its platform's raw topic (what the Flink runner consumes). */
  raw: boolean;
  /**
   * The embedded transform: the event mapped by the declarative mapping, its canonical events
   * on the canonical topic and its rejects as dead letters (stored in the round's transaction).
   */
  transform?: { skuRule: SkuNormalisation; deadLetters: DeadLetterSink };
}

/** Settings of the relay. */
export interface OutboxRelayOptions {
  /** Rows published per round. */
  batchSize: number;
  /** Fallback poll interval when no NOTIFY arrives (ms). */
  idlePollMs: number;
  /** What is published (default: raw topics only). */
  output?: RelayOutput;
}

/**
 * Publishes the events of the `outbox` and deletes their outbox entries in the same transaction:
 * with the embedded transform, the canonical events the mapping makes of them (keyed by SKU; the
 * rejects become dead letters in that transaction); with raw output, the events themselves on
 * their platform's raw topic (keyed by SKU or the entity's id), for the Flink runner. A crash
 * before the commit republishes (at least once); consumers deduplicate by event id. Entries are
 * claimed with SKIP LOCKED, so several daemons can relay at once.
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
    const round = await this.claim();
    if (!round) return 0;
    return this.finish(round);
  }

  /**
   * Relays rounds until one is not full, pipelined: while round n is being published, round n+1
   * is claimed (its own transaction; SKIP LOCKED passes over round n's rows, so it takes the next
   * ones). Round n+1 is published only after round n is published and committed, so the
   * publication order stays the outbox order; when round n fails, round n+1 is rolled back too
   * and both are relayed again later, in order. Returns rows published.
   */
  private async relayRounds(): Promise<number> {
    let total = 0;
    let cur = await this.claim();
    while (cur) {
      const next: Promise<Round | undefined> = cur.rows.length >= this.opts.batchSize && this.running ? this.claim() : Promise.resolve(undefined);
      next.catch(() => undefined); // awaited below; a rejection meanwhile is not "unhandled"
      try {
        total += await this.finish(cur);
      } catch (err) {
        const claimed = await next.catch(() => undefined);
        if (claimed) await this.abort(claimed);
        throw err;
      }
      cur = await next;
    }
    return total;
  }

  /**
   * Claims the oldest entries in a transaction left open (another relay skips them), takes them
   * out of the outbox, and reads their events, already as the raw topic's JSON (PostgreSQL renders
   * it: no parse and re-serialise here). Undefined (and nothing left open) when the outbox is empty.
   */
  private async claim(): Promise<Round | undefined> {
    const client = await this.pool.connect();
    // A claimed round holds its transaction open while it (or the round before it) is published:
    // a connection lost meanwhile (a restart, an administrator's terminate) is an 'error' event
    // with no query to reject. Its rows stay in the outbox and are relayed again; the client is
    // destroyed on release.
    const lost = (err: Error) => this.log.warn({ err: err.message }, 'relay lost its database connection mid-round; the round will be relayed again');
    client.on('error', lost);
    const release = (err?: Error) => {
      client.removeListener('error', lost);
      client.release(err);
    };
    try {
      await client.query('BEGIN');
      const r = await client.query<RelayRow>(
        `with claimed as (
           delete from outbox where seq in (select seq from outbox order by seq limit $1 for update skip locked)
           returning seq, event_id
         )
         select c.seq::text as seq, lower(s.source_type) as platform, s.source_instance as instance, s.event_id, coalesce(s.sku, s.source_id) as key,
                (extract(epoch from s.received_at) * 1000)::bigint::text as ts,
                json_build_object(
                  'eventId', s.event_id, 'platform', lower(s.source_type), 'instance', s.source_instance,
                  'eventType', s.event_type, 'entityRef', s.source_id, 'origin', s.origin, 'dedupeKey', s.dedupe_key,
                  'occurredAt', ${isoUtc('s.timestamp')}, 'receivedAt', ${isoUtc('s.received_at')},
                  'checksum', s.checksum, 'payload', s.data, 'sku', s.sku
                )::text as value
           from claimed c join source_events s using (event_id) order by c.seq`,
        [this.opts.batchSize],
      );
      if (r.rowCount === 0) {
        await client.query('COMMIT');
        release();
        return undefined;
      }
      return { client, rows: r.rows, release };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      release(err as Error);
      throw err;
    }
  }

  /** Publishes a claimed round and commits the removal of its entries; a failure to publish rolls it back. */
  private async finish({ client, rows, release }: Round): Promise<number> {
    const output = this.opts.output ?? { raw: true };
    let rejected: DeadLetter[] = [];
    let failure: Error | undefined;
    try {
      if (output.raw) await this.publishRaw(rows);
      if (output.transform) {
        const out = transformRaw(rows.map(toInput), output.transform.skuRule);
        // Canonical events first, then the rejects' rows in this transaction: both or neither.
        if (out.events.length) await this.kafka.publish(this.topics.canonical, canonicalMessages(out.events));
        rejected = await output.transform.deadLetters.record(out.rejects, client);
        await client.query('COMMIT');
        reportTransformed(this.instrumentation, out);
      } else {
        await client.query('COMMIT');
      }
    } catch (err) {
      failure = err as Error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      release(failure);
    }
    const relayedAt = Date.now();
    this.instrumentation.emit('pipeline.stage', { stage: 'relay', seconds: rows.map((r) => Math.max(0, relayedAt - Number(r.ts)) / 1000) });
    const byPlatform = new Map<string, number>();
    for (const r of rows) byPlatform.set(r.platform, (byPlatform.get(r.platform) ?? 0) + 1);
    for (const [platform, count] of byPlatform) this.instrumentation.emit('events.published', { platform, count });
    if (rejected.length && output.transform) {
      this.log.warn({ count: rejected.length, codes: [...new Set(rejected.map((r) => r.errorCode))] }, 'raw events dead-lettered by the transform');
      // The rows are durable; the DLQ topic is a copy for other consumers.
      await output.transform.deadLetters.publish(rejected).catch((err: unknown) => this.log.warn({ err: describeError(err) }, 'dead letters stored but not published to the DLQ topic'));
    }
    return rows.length;
  }

  /** Publishes the events of a round to their platform's raw topic, in outbox order. */
  private async publishRaw(rows: RelayRow[]): Promise<void> {
    const byTopic = new Map<string, RelayRow[]>();
    for (const e of rows) {
      const topic = this.topics.raw[e.platform];
      let list = byTopic.get(topic);
      if (!list) byTopic.set(topic, (list = []));
      list.push(e);
    }
    for (const [topic, list] of byTopic) {
      // KafkaBus.publish splits the list into requests well under the broker's message.max.bytes.
      await this.kafka.publish(
        topic,
        list.map((e) => ({ key: e.key, value: undefined, json: e.value, headers: { 'syncctl-event-id': e.event_id, 'syncctl-source': `${e.platform}:${e.instance}` }, timestamp: Number(e.ts) })),
      );
    }
  }

  /** Gives a claimed round back (its entries stay in the outbox). */
  private async abort({ client, release }: Round): Promise<void> {
    try {
      await client.query('ROLLBACK');
      release();
    } catch (err) {
      release(err as Error); // the connection failed: its transaction is gone with it
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
        await this.relayRounds(); // until a round is not full: nothing more waiting
        failures = 0;
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

/** An outbox row as the embedded transform's input (PostgreSQL rendered valid JSON). */
function toInput(row: RelayRow): RawInput {
  return { value: JSON.parse(row.value) as unknown, context: { outboxSeq: row.seq } };
}
