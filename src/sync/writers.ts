import pg from 'pg';
import { getLogger } from '../core/logger.js';
import { events as bus, type SyncEventBus } from '../core/events.js';
import { describeError, RetriableError } from '../core/errors.js';
import { backoffDelay, sleep, type RetryOptions } from '../core/retry.js';
import type { SourceKey, WriteConfirmed, WriteFailed } from '../core/model.js';
import type { WriteCause, WriteKind } from './engine/types.js';
import type { SinkConnector, SinkResult, SinkWrite } from '../connectors/types.js';
import type { KafkaBus } from '../pipeline/kafka/bus.js';
import type { DeadLetterSink } from '../pipeline/dead-letter-sink.js';
import { insertDeadLetters, type NewDeadLetter } from '../db/dead-letters.js';
import { COALESCING, WRITES_CHANNEL } from './effects-store.js';
import { retryOnLockConflict, withTransaction } from '../db/pool.js';

/** Settings of the writers. */
export interface WriterOptions {
  retry: Pick<RetryOptions, 'retries' | 'initialDelayMs' | 'maxDelayMs' | 'factor'>;
  /** A write INFLIGHT longer than this is considered abandoned by a crashed writer and sent again (same key). */
  leaseSeconds: number;
  /** Fallback poll interval when no NOTIFY arrives (ms). */
  idlePollMs: number;
}

interface WriteRow {
  write_id: string;
  target_key: string;
  sku: string;
  kind: string;
  payload: Record<string, unknown>;
  idempotency_key: string;
  attempts: number;
  source_key: string | null;
  source_event_at: Date | null;
  cause: WriteCause;
  created_at: Date;
  not_before: Date;
}

/** Outcomes of one writer round, by kind. */
type Done = { row: WriteRow; res: Extract<SinkResult, { status: 'ok' }> };
type Again = { row: WriteRow; delayMs: number; error: string };
type Failed = { row: WriteRow; res: Exclude<SinkResult, { status: 'ok' }>; exhausted: boolean };

/**
 * The writers: one loop per target instance takes due planned writes (SKIP LOCKED, so several
 * daemons share them), sends them in batches within the sink's limit, and records each
 * outcome: done (and a WriteConfirmed event to the engine), retried later with backoff, or
 * dead-lettered (and a WriteFailed event). A write abandoned by a crash is sent again with the
 * same idempotency key after its lease.
 */
export class WriterPool {
  private readonly log = getLogger('writer');
  private running = false;
  private loops: Promise<void>[] = [];
  private wakers = new Set<() => void>();
  private listener?: pg.Client;
  private recovery?: NodeJS.Timeout;
  /** Aborted by stop(): cuts a loop's backoff after a failed round short. */
  private stopping = new AbortController();
  /** Targets whose writes are held (credentials refused), with the reason, to log each hold once. */
  private readonly holds = new Map<SourceKey, string>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly databaseUrl: string,
    private readonly kafka: KafkaBus,
    private readonly canonicalTopic: string,
    private readonly sinks: Map<SourceKey, SinkConnector>,
    private readonly deadLetters: DeadLetterSink,
    private readonly opts: WriterOptions,
    private readonly instrumentation: SyncEventBus = bus,
  ) {}

  async start(): Promise<void> {
    this.running = true;
    this.stopping = new AbortController();
    // A failure here must not keep the daemon from starting: the timer below tries again.
    await this.recoverAbandoned().catch((err) => this.log.warn({ err: describeError(err) }, 'recovering abandoned writes failed; will retry'));
    // Not only at start: a peer daemon that died (scale-out) or a round whose outcome could not be
    // recorded (Kafka or PostgreSQL down) leaves rows INFLIGHT while this process keeps running.
    this.recovery = setInterval(() => {
      this.recoverAbandoned().catch((err) => this.log.warn({ err: describeError(err) }, 'recovering abandoned writes failed; will retry'));
    }, Math.max(1000, (this.opts.leaseSeconds * 1000) / 2));
    this.recovery.unref();
    try {
      const c = new pg.Client({ connectionString: this.databaseUrl, application_name: 'syncctl writers' });
      c.on('error', () => (this.listener = undefined));
      await c.connect();
      await c.query(`LISTEN ${WRITES_CHANNEL}`);
      c.on('notification', () => this.wakeAll());
      this.listener = c;
    } catch (err) {
      this.log.warn({ err: describeError(err) }, 'writers cannot LISTEN; polling only');
    }
    for (const target of this.sinks.keys()) this.loops.push(this.loop(target));
  }

  /** Stops after the batches in flight (their outcomes are recorded). */
  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.recovery);
    this.stopping.abort();
    this.wakeAll();
    await Promise.allSettled(this.loops);
    this.loops = [];
    await this.listener?.end().catch(() => undefined);
  }

  private wakeAll(): void {
    for (const w of this.wakers) w();
  }

  /**
   * Puts writes abandoned INFLIGHT (by a crashed process, or a round whose outcome could not be
   * recorded) back to PENDING, to be sent again with the same idempotency key. An absolute write
   * (inventory, fields) whose target and SKU already have a newer PENDING write of the same kind
   * is folded into it instead (fields merged, the newer values winning) and marked SUPERSEDED:
   * at most one absolute write per target, SKU and kind may be pending.
   */
  async recoverAbandoned(): Promise<number> {
    const recovered = await retryOnLockConflict(() => withTransaction(this.pool, async (client) => {
      const r = await client.query<{ write_id: string; target_key: string; sku: string; kind: string; payload: Record<string, unknown> }>(
        `select write_id, target_key, sku, kind, payload from planned_writes
          where status = 'INFLIGHT' and updated_at < now() - make_interval(secs => $1)
          order by target_key, sku, kind, created_at desc for update skip locked`,
        [this.opts.leaseSeconds],
      );
      for (const row of r.rows) {
        // In the lock order of planned writes (target, SKU, kind), and within one target, SKU and
        // kind newest first: the newest abandoned absolute write becomes the pending one, older ones fold into it.
        await whileFoldingRaces(client, async () => {
          const folded = COALESCING.includes(row.kind as WriteKind)
            ? await client.query(
                `update planned_writes p set updated_at = now(),
                        payload = case when p.kind = 'fields'
                                       then p.payload || jsonb_build_object('fields', coalesce($4::jsonb->'fields', '{}'::jsonb) || coalesce(p.payload->'fields', '{}'::jsonb))
                                       else p.payload end
                  where p.target_key = $1 and p.sku = $2 and p.kind = $3 and p.status = 'PENDING'`,
                [row.target_key, row.sku, row.kind, JSON.stringify(row.payload)],
              )
            : { rowCount: 0 };
          await client.query(`update planned_writes set status = $2, updated_at = now() where write_id = $1`, [row.write_id, folded.rowCount ? 'SUPERSEDED' : 'PENDING']);
        });
      }
      return r.rows.length;
    }), (attempt) => this.instrumentation.emit('retry', { component: 'writer-recovery', code: 'DEADLOCK', attempt, delayMs: 0 }));
    if (recovered) {
      this.log.info({ count: recovered }, 'resending writes abandoned INFLIGHT (same idempotency keys)');
      this.wakeAll();
    }
    return recovered;
  }

  private async loop(target: SourceKey): Promise<void> {
    let failures = 0;
    while (this.running) {
      let n = 0;
      try {
        n = await this.runOnce(target);
        failures = 0;
      } catch (err) {
        failures++;
        this.log.warn({ target, err: describeError(err) }, 'writer round failed; retrying');
        await sleep(Math.min(10_000, 200 * 2 ** Math.min(failures, 6)), this.stopping.signal).catch(() => undefined);
        continue;
      }
      if (n > 0) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, this.opts.idlePollMs);
        const self = this;
        function done() {
          clearTimeout(t);
          self.wakers.delete(done);
          resolve();
        }
        this.wakers.add(done);
      });
    }
  }

  /** Sends one batch of due writes to `target`; returns how many it handled. */
  async runOnce(target: SourceKey): Promise<number> {
    const sink = this.sinks.get(target);
    if (!sink) return 0;
    if (await this.isHeld(target, sink)) return 0;
    const claimed = await this.pool.query<WriteRow>(
      `update planned_writes p set status = 'INFLIGHT', attempts = attempts + 1, updated_at = now()
         where write_id in (select write_id from planned_writes where target_key = $1 and status = 'PENDING' and not_before <= now()
                            order by created_at limit $2 for update skip locked)
       returning p.*`,
      [target, sink.maxBatch],
    );
    const rows = claimed.rows;
    if (rows.length === 0) return 0;
    const claimedAt = Date.now();
    // Due (planned, or the settle window or a retry's backoff over) → claimed by this writer.
    this.instrumentation.emit('pipeline.stage', { stage: 'write_queue', target, seconds: rows.map((r) => Math.max(0, claimedAt - r.not_before.getTime()) / 1000) });
    // Rechecks read the target's stock (no write) and report it like a confirmation.
    const rechecks = rows.filter((r) => r.kind === 'recheck');
    const writes = rows.filter((r) => r.kind !== 'recheck');
    const batch: SinkWrite[] = writes.map((r) => ({
      writeId: r.write_id,
      sku: r.sku,
      kind: r.kind as SinkWrite['kind'],
      idempotencyKey: r.idempotency_key,
      refs: (r.payload.refs as SinkWrite['refs']) ?? { id: '' },
      // Field writes are planned as `{ fields: {...} }`; sinks take the fields at the top level.
      payload: r.kind === 'fields' ? { ...(r.payload.fields as Record<string, unknown>) } : r.payload,
      expected: (r.payload.expected as number | null | undefined) ?? null,
    }));
    const failing = (ids: string[], err: unknown): SinkResult[] => {
      const d = describeError(err);
      return ids.map((writeId) => ({ writeId, status: 'retriable' as const, code: d.code ?? 'WRITE_FAILED', message: d.message, retryAfterMs: err instanceof RetriableError ? err.retryAfterMs : undefined }));
    };
    let results: SinkResult[] = [];
    if (batch.length) {
      try {
        results = await sink.write(batch);
      } catch (err) {
        results = failing(batch.map((w) => w.writeId), err);
      }
    }
    if (rechecks.length) {
      try {
        const readings = new Map((await sink.read([...new Set(rechecks.map((r) => r.sku))])).map((x) => [x.sku, x]));
        for (const r of rechecks) {
          const x = readings.get(r.sku);
          // A reading without a version cannot be ordered against the source's changes: report nothing.
          results.push({ writeId: r.write_id, status: 'ok', applied: x?.version ? { available: x.available, version: x.version } : { available: null, unversioned: true } });
        }
      } catch (err) {
        results.push(...failing(rechecks.map((r) => r.write_id), err));
      }
    }
    const answered = (Date.now() - claimedAt) / 1000;
    this.instrumentation.emit('pipeline.stage', { stage: 'write', target, seconds: rows.map(() => answered) });
    const byId = new Map(results.map((r) => [r.writeId, r]));
    // The target's credentials were refused during the round: what failed waits for them, uncounted.
    const held = results.some((r) => r.status !== 'ok') && (await this.isHeld(target, sink));
    await this.record(target, rows, (w) => byId.get(w) ?? { writeId: w, status: 'retriable', code: 'NO_RESULT', message: 'the sink returned no result for this write' }, held);
    return rows.length;
  }

  /** Whether the target's writes are held now (logs when a hold begins and ends). */
  private async isHeld(target: SourceKey, sink: SinkConnector): Promise<boolean> {
    if (!sink.held) return false;
    const reason = await sink.held(this.stopping.signal).catch(() => null);
    const was = this.holds.get(target);
    if (reason && !was) this.log.warn({ target, reason }, 'writes to this target are held until its credentials are accepted');
    if (!reason && was) this.log.info({ target }, 'writes to this target resume');
    if (reason) this.holds.set(target, reason);
    else this.holds.delete(target);
    return reason !== null;
  }

  private async record(target: SourceKey, rows: WriteRow[], resultOf: (writeId: string) => SinkResult, held = false): Promise<void> {
    const now = new Date();
    const done: Done[] = [];
    const again: Again[] = [];
    const failed: Failed[] = [];
    /** Held: back to pending like a retry (folding into a newer pending write), the attempt not counted. */
    const waiting: string[] = [];
    for (const row of rows) {
      const res = resultOf(row.write_id);
      if (res.status === 'ok') done.push({ row, res });
      else if (held) {
        again.push({ row, delayMs: 1000, error: `${res.code}: ${res.message}` });
        waiting.push(row.write_id);
      }
      else if (res.status === 'retriable' && row.attempts < this.opts.retry.retries) {
        const err = new RetriableError(res.code, res.message, { retryAfterMs: res.retryAfterMs });
        again.push({ row, delayMs: backoffDelay(row.attempts, this.opts.retry, err), error: `${res.code}: ${res.message}` });
        this.instrumentation.emit('retry', { component: `writer:${target}`, code: res.code, attempt: row.attempts, delayMs: again.at(-1)!.delayMs });
      } else failed.push({ row, res, exhausted: res.status === 'retriable' });
    }
    // Tell the engine first: a crash after this and before the rows are updated re-sends the
    // writes with their keys and confirms again; the engine ignores a repeated confirmation.
    const events: Array<WriteConfirmed | WriteFailed> = [
      ...done.map(({ row, res }): WriteConfirmed => ({
        type: 'WriteConfirmed',
        eventId: `${row.write_id}:confirmed`,
        sku: row.sku,
        source: target,
        target,
        writeId: row.write_id,
        kind: row.kind,
        sourceVersion: typeof res.applied.version === 'string' ? res.applied.version : now.toISOString(),
        occurredAt: now.toISOString(),
        rawEventId: row.write_id,
        origin: 'writer',
        available: typeof res.applied.available === 'number' ? res.applied.available : null,
        pendingDelta: typeof row.payload.pendingDelta === 'number' ? row.payload.pendingDelta : undefined,
      })),
      ...failed.map(({ row, res }): WriteFailed => ({
        type: 'WriteFailed',
        eventId: `${row.write_id}:failed`,
        sku: row.sku,
        source: target,
        target,
        writeId: row.write_id,
        kind: row.kind,
        code: res.code,
        sourceVersion: now.toISOString(),
        occurredAt: now.toISOString(),
        rawEventId: row.write_id,
        origin: 'writer',
      })),
    ];
    if (events.length) await this.kafka.publish(this.canonicalTopic, events.map((e) => ({ key: e.sku, value: e, headers: { 'syncctl-type': e.type, 'syncctl-source': target } })));
    const dls: NewDeadLetter[] = failed.map(({ row, res, exhausted }) => ({
      sourceKey: target,
      sku: row.sku,
      stage: `write:${target}`,
      errorClass: exhausted ? 'RETRIABLE_EXHAUSTED' : 'PERMANENT',
      errorCode: res.code,
      errorMessage: res.message,
      attempts: row.attempts,
      payload: { writeId: row.write_id, kind: row.kind, payload: row.payload, idempotencyKey: row.idempotency_key },
      context: { target, sourceKey: row.source_key, plannedAt: row.created_at },
      firstFailedAt: row.created_at.toISOString(),
    }));
    const stored = await retryOnLockConflict(
      () => this.recordOutcomes(done, again, failed, waiting, dls),
      (attempt) => this.instrumentation.emit('retry', { component: 'writer', code: 'DEADLOCK', attempt, delayMs: 0 }),
    );
    if (stored.length) await this.deadLetters.publish(stored).catch((err) => this.log.warn({ err: describeError(err) }, 'DLQ topic publish failed (rows are stored)'));
    const byKind = new Map<string, { count: number; lat: number[]; source: string; kind: string; path: WriteCause }>();
    for (const d of done) {
      if (d.row.kind === 'recheck') continue; // a read, not a sync of a change
      const k = `${d.row.kind}|${d.row.source_key ?? 'unknown'}|${d.row.cause}`;
      const e = byKind.get(k) ?? { count: 0, lat: [], source: d.row.source_key ?? 'unknown', kind: d.row.kind, path: d.row.cause };
      e.count++;
      if (d.row.source_event_at) e.lat.push((now.getTime() - d.row.source_event_at.getTime()) / 1000);
      byKind.set(k, e);
    }
    for (const v of byKind.values()) this.instrumentation.emit('write.applied', { source: v.source, target, kind: v.kind, path: v.path, count: v.count, latencySeconds: v.lat });
    for (const f of failed) this.instrumentation.emit('write.failed', { target, kind: f.row.kind, errorClass: f.exhausted ? 'retriable' : 'permanent', code: f.res.code, count: 1 });
  }

  /** Records a round's outcomes in one transaction (run again when PostgreSQL breaks a lock cycle). */
  private async recordOutcomes(done: Done[], again: Again[], failed: Failed[], waiting: string[], dls: NewDeadLetter[]): Promise<Awaited<ReturnType<typeof insertDeadLetters>>> {
    const client = await this.pool.connect();
    let stored: Awaited<ReturnType<typeof insertDeadLetters>> = [];
    try {
      await client.query('BEGIN');
      if (done.length) {
        await client.query(
          `update planned_writes p set status = 'DONE', result = r.res, last_error = null, updated_at = now()
             from unnest($1::uuid[], $2::jsonb[]) as r(id, res) where p.write_id = r.id`,
          [done.map((d) => d.row.write_id), done.map((d) => JSON.stringify(d.res.applied))],
        );
      }
      if (waiting.length) await client.query(`update planned_writes set attempts = greatest(0, attempts - 1) where write_id = any($1::uuid[])`, [waiting]);
      if (again.length) {
        // A retried absolute write whose target and SKU got a newer pending write meanwhile folds
        // into it (that one carries the latest decision; field writes merge, newer fields win).
        await whileFoldingRaces(client, async () => {
          await client.query(
            `with retried as (select p.* from planned_writes p where p.write_id = any($1::uuid[]) and p.kind in ('inventory', 'fields')),
                  sib as (update planned_writes q set updated_at = now(),
                                 payload = case when q.kind = 'fields'
                                                then q.payload || jsonb_build_object('fields', coalesce(r.payload->'fields', '{}'::jsonb) || coalesce(q.payload->'fields', '{}'::jsonb))
                                                else q.payload end
                            from retried r
                           where q.target_key = r.target_key and q.sku = r.sku and q.kind = r.kind and q.status = 'PENDING' and q.write_id <> r.write_id
                       returning r.write_id)
             update planned_writes p set status = 'SUPERSEDED', updated_at = now() where p.write_id in (select write_id from sib)`,
            [again.map((a) => a.row.write_id)],
          );
          await client.query(
            `update planned_writes p set status = 'PENDING', not_before = now() + make_interval(secs => r.delay / 1000.0), last_error = r.err, updated_at = now()
               from unnest($1::uuid[], $2::float8[], $3::text[]) as r(id, delay, err) where p.write_id = r.id and p.status = 'INFLIGHT'`,
            [again.map((a) => a.row.write_id), again.map((a) => a.delayMs), again.map((a) => a.error)],
          );
        });
      }
      if (failed.length) {
        await client.query(
          `update planned_writes p set status = 'FAILED', last_error = r.err, updated_at = now()
             from unnest($1::uuid[], $2::text[]) as r(id, err) where p.write_id = r.id`,
          [failed.map((f) => f.row.write_id), failed.map((f) => `${f.res.code}: ${f.res.message}`)],
        );
        stored = await this.deadLetters.record(dls, client);
      }
      await client.query('COMMIT');
      return stored;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}

/**
 * Runs `fn` (statements that fold a write into a pending one of the same target, SKU and kind,
 * or else make it the pending one) in a savepoint, again when it hits the one-pending-write
 * unique index: a sync worker committed such a pending write after `fn` looked for one (the
 * worker plans with ON CONFLICT on that index), and the next try folds into it.
 */
async function whileFoldingRaces(client: pg.PoolClient, fn: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await client.query('SAVEPOINT fold_race');
    try {
      await fn();
      await client.query('RELEASE SAVEPOINT fold_race');
      return;
    } catch (err) {
      await client.query('ROLLBACK TO SAVEPOINT fold_race');
      if ((err as { code?: string }).code !== '23505' || attempt >= 3) throw err;
    }
  }
}
