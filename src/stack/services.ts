import { execa } from 'execa';
import { readdirSync } from 'node:fs';
import pg from 'pg';
import { Redis } from 'ioredis';
import { getLogger } from '../core/logger.js';
import { ServiceUnavailableError } from '../core/errors.js';
import { redactUrl } from '../config/redact.js';
import type { StackComponent, StackComponentStatus } from './component.js';

const log = getLogger('stack');
const LOCAL = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Connects to PostgreSQL's maintenance database and reads the server version; null when unreachable. */
export async function probePostgres(databaseUrl: string): Promise<{ version: string; walLevel: string } | null> {
  const u = new URL(databaseUrl);
  u.pathname = '/postgres';
  const client = new pg.Client({ connectionString: u.toString(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    const r = await client.query<{ server_version: string; wal_level: string }>(
      "select current_setting('server_version') as server_version, current_setting('wal_level') as wal_level",
    );
    return { version: r.rows[0]!.server_version, walLevel: r.rows[0]!.wal_level };
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The machine's PostgreSQL, checked and (when local and allowed) started with pg_ctlcluster. */
export class PostgresService implements StackComponent {
  readonly name = 'postgres';
  constructor(private readonly databaseUrl: string, private readonly manage: boolean) {}

  async status(): Promise<StackComponentStatus> {
    const p = await probePostgres(this.databaseUrl);
    const port = Number(new URL(this.databaseUrl).port || 5432);
    return p
      ? { component: this.name, running: true, ready: true, managed: false, port, detail: `PostgreSQL ${p.version}, wal_level=${p.walLevel}` }
      : { component: this.name, running: false, ready: false, managed: false, port, detail: `unreachable at ${redactUrl(this.databaseUrl)}` };
  }

  async up(): Promise<StackComponentStatus> {
    let s = await this.status();
    if (s.ready) return s;
    if (!this.manage || !LOCAL.has(new URL(this.databaseUrl).hostname)) {
      throw new ServiceUnavailableError('postgres', `PostgreSQL is not reachable at ${redactUrl(this.databaseUrl)}.`, {
        hint: 'Start it, or fix database.url (SYNCCTL_DATABASE_URL).',
      });
    }
    log.info('PostgreSQL is down: starting it with pg_ctlcluster');
    await pgCtl('start');
    for (let i = 0; i < 50 && !s.ready; i++) {
      await new Promise((r) => setTimeout(r, 200));
      s = await this.status();
    }
    if (!s.ready) throw new ServiceUnavailableError('postgres', 'PostgreSQL did not come up after pg_ctlcluster start.');
    return s;
  }

  /** The machine's PostgreSQL is not ours to stop. */
  down(): Promise<StackComponentStatus> {
    return this.status();
  }
}

/** Runs `pg_ctlcluster --skip-systemctl-redirect <version> main <action>` for the machine's cluster. */
export async function pgCtl(action: 'start' | 'restart' | 'stop'): Promise<void> {
  let versions: string[] = [];
  try {
    versions = readdirSync('/etc/postgresql');
  } catch {
    throw new ServiceUnavailableError('postgres', 'No local PostgreSQL cluster found under /etc/postgresql.', {
      hint: 'Install PostgreSQL 15 (apt-get install postgresql) or point database.url at a running server.',
    });
  }
  const version = versions.sort().pop()!;
  await execa('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action], { stdin: 'ignore' });
}

/** The machine's Redis, checked and (when local and allowed) started with redis-server. */
export class RedisService implements StackComponent {
  readonly name = 'redis';
  constructor(private readonly url: string, private readonly manage: boolean) {}

  async status(): Promise<StackComponentStatus> {
    const port = Number(new URL(this.url).port || 6379);
    const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const info = await client.info('server');
      const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
      return { component: this.name, running: true, ready: true, managed: false, port, detail: `Redis ${version}` };
    } catch {
      return { component: this.name, running: false, ready: false, managed: false, port, detail: `unreachable at ${redactUrl(this.url)}` };
    } finally {
      client.disconnect();
    }
  }

  async up(): Promise<StackComponentStatus> {
    let s = await this.status();
    if (s.ready) return s;
    const u = new URL(this.url);
    if (!this.manage || !LOCAL.has(u.hostname)) {
      throw new ServiceUnavailableError('redis', `Redis is not reachable at ${redactUrl(this.url)}.`, { hint: 'Start it, or fix redis.url (SYNCCTL_REDIS_URL).' });
    }
    log.info('Redis is down: starting redis-server');
    await execa('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', String(u.port || 6379), '--save', '', '--appendonly', 'no', '--dir', '/var/lib/redis', '--logfile', '/var/log/redis/ci.log'], { stdin: 'ignore' });
    for (let i = 0; i < 50 && !s.ready; i++) {
      await new Promise((r) => setTimeout(r, 100));
      s = await this.status();
    }
    if (!s.ready) throw new ServiceUnavailableError('redis', 'Redis did not come up after redis-server --daemonize.');
    return s;
  }

  down(): Promise<StackComponentStatus> {
    return this.status();
  }
}
