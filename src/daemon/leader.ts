import pg from 'pg';
import { getLogger } from '../core/logger.js';
import { describeError } from '../core/errors.js';
import { sleep } from '../core/retry.js';

/**
 * Leader election for single-owner work (pollers, webhook health, supervisors): a session-level
 * PostgreSQL advisory lock held on a dedicated connection. When the holder dies its connection
 * closes, the lock is released, and another daemon takes over within `retryMs`.
 */
export class LeaderLease {
  private readonly log = getLogger('leader');
  private client?: pg.Client;
  private running = false;
  private loop?: Promise<void>;
  leader = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly key: string,
    private readonly onElected: () => Promise<void> | void,
    private readonly onDeposed: () => Promise<void> | void,
    private readonly retryMs = 2000,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.release();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (!this.client) {
          const c = new pg.Client({ connectionString: this.databaseUrl, application_name: 'syncctl leader' });
          c.on('error', (err) => {
            this.log.warn({ err: err.message }, 'leader connection lost');
            void this.lost();
          });
          await c.connect();
          this.client = c;
        }
        if (!this.leader) {
          const r = await this.client.query<{ ok: boolean }>('select pg_try_advisory_lock(hashtext($1)) as ok', [this.key]);
          if (r.rows[0]?.ok) {
            this.leader = true;
            this.log.info({ key: this.key }, 'elected leader: running pollers and single-owner tasks');
            await this.onElected();
          }
        } else {
          await this.client.query('select 1');
        }
      } catch (err) {
        this.log.warn({ err: describeError(err) }, 'leader lease check failed');
        await this.lost();
      }
      await sleep(this.retryMs).catch(() => undefined);
    }
  }

  private async lost(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
    if (this.leader) {
      this.leader = false;
      this.log.warn('lost leadership');
      await this.onDeposed();
    }
  }

  private async release(): Promise<void> {
    if (this.leader) await this.onDeposed();
    this.leader = false;
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }
}
