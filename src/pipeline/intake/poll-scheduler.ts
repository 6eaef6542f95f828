import type pg from 'pg';
import { getLogger } from '../../core/logger.js';
import { events as bus, type SyncEventBus } from '../../core/events.js';
import { describeError } from '../../core/errors.js';
import { sleep } from '../../core/retry.js';
import type { PollCheckpoint, SourceConnector } from '../../connectors/types.js';
import type { EventStore } from './event-store.js';

/** One source to poll and how often. */
export interface PolledSource {
  connector: SourceConnector;
  intervalMs: number;
}

/** The checkpoint name of a source's resource. */
export const pollCheckpointName = (key: string, resource: string): string => `poll:${key}:${resource}`;

/** Reads a checkpoint. */
export async function readCheckpoint<T>(pool: pg.Pool, name: string): Promise<T | null> {
  const r = await pool.query<{ value: T }>('select value from checkpoints where name = $1', [name]);
  return r.rows[0]?.value ?? null;
}

/** Writes a checkpoint (after the events it covers are durable). */
export async function writeCheckpoint(pool: pg.Pool, name: string, value: unknown): Promise<void> {
  await pool.query(
    `insert into checkpoints (name, value, updated_at) values ($1, $2, now()) on conflict (name) do update set value = excluded.value, updated_at = now()`,
    [name, JSON.stringify(value)],
  );
}

/**
 * The safety net behind webhooks: every interval, each source's resources are polled from their
 * checkpoint (with the connector's overlap window); events are stored (states already held are
 * recognised by checksum), then the checkpoint advances. Runs on the elected leader only.
 */
export class PollScheduler {
  private readonly log = getLogger('poller');
  private running = false;
  private loops: Promise<void>[] = [];
  private abort = new AbortController();

  constructor(
    private readonly pool: pg.Pool,
    private readonly store: EventStore,
    private readonly sources: PolledSource[],
    private readonly instrumentation: SyncEventBus = bus,
  ) {}

  /** Starts polling; may be called again after stop() (a daemon deposed and re-elected as leader). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    this.loops = [];
    for (const s of this.sources) for (const r of s.connector.pollResources) this.loops.push(this.loop(s, r));
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }

  /** Polls one resource of one source from its checkpoint to the end; returns events stored. */
  async pollOnce(connector: SourceConnector, resource: string, signal?: AbortSignal): Promise<number> {
    const name = pollCheckpointName(connector.key, resource);
    let cp = await readCheckpoint<PollCheckpoint>(this.pool, name);
    let stored = 0;
    const started = Date.now();
    for (let page = 0; page < 100_000; page++) {
      const p = await connector.poll(resource, cp, signal);
      const r = await this.store.store(p.events);
      stored += r.stored.length;
      cp = p.checkpoint;
      await writeCheckpoint(this.pool, name, cp);
      if (!p.more) break;
    }
    this.instrumentation.emit('poll.completed', { source: connector.key, resource, found: stored, seconds: (Date.now() - started) / 1000 });
    return stored;
  }

  private async loop(s: PolledSource, resource: string): Promise<void> {
    while (this.running) {
      try {
        const n = await this.pollOnce(s.connector, resource, this.abort.signal);
        if (n > 0) this.log.info({ source: s.connector.key, resource, stored: n }, 'poll found changes webhooks had not delivered');
      } catch (err) {
        if (!this.running) break;
        this.log.warn({ source: s.connector.key, resource, err: describeError(err) }, 'poll failed; will try again next interval');
        this.instrumentation.emit('error', { component: `poller:${s.connector.key}`, errorClass: 'retriable', code: describeError(err).code ?? 'POLL_FAILED' });
      }
      await sleep(s.intervalMs, this.abort.signal).catch(() => undefined);
    }
  }
}
