import { linkSharedKafkaJars } from '../../support/kafka-jars.js';
// Outages a test can cause without touching the machine's shared services: a private Kafka
// broker (the project's own stack script, on free ports, its own data dir) that the test stops
// and starts, and a PostgreSQL role for the daemon whose logins the test refuses and whose
// connections it terminates.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { REPO_ROOT } from '../../support/cli.js';
import { freePort } from '../../support/ports.js';
import { quoteIdent } from '../../../src/db/pool.js';

const run = promisify(execFile);

/** A Kafka broker only this test uses. */
export interface PrivateBroker {
  address: string;
  up(): Promise<void>;
  down(): Promise<void>;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
}

/** Starts a private single-node broker with the jars of the shared stack (no download). */
export async function startPrivateBroker(): Promise<PrivateBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'syncctl-kafka-'));
  const script = join(REPO_ROOT, 'scripts', 'stack', 'kafka.sh');
  await linkSharedKafkaJars(dir);
  const port = await freePort();
  const env = { ...process.env, STACK_DIR: dir, KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(await freePort()), KAFKA_HEAP_MB: '256' };
  const broker: PrivateBroker = {
    address: `127.0.0.1:${port}`,
    up: async () => void (await run('bash', [script, 'up'], { env, timeout: 90_000 })),
    down: async () => void (await run('bash', [script, 'down'], { env, timeout: 60_000 })),
    destroy: async () => {
      await broker.down().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await broker.up();
  return broker;
}

/** A login role owning a schema: the daemon connects as it, the test can lock it out. */
export interface DaemonRole {
  name: string;
  /** The database URL with this role as the user. */
  url: string;
  /** Refuses new logins and terminates every connection of the role. */
  lockOut(): Promise<number>;
  /** Terminates every connection of the role (they may reconnect at once). */
  terminate(): Promise<number>;
  /** Allows logins again. */
  letIn(): Promise<void>;
  drop(): Promise<void>;
}

/** Creates a role with every right on `schema` (whose tables exist already). */
export async function createDaemonRole(adminUrl: string, schema: string): Promise<DaemonRole> {
  const name = `syncctl_t_${Math.random().toString(16).slice(2, 10)}`;
  const admin = async <T extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]> => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      return (await c.query<T>(sql, params)).rows;
    } finally {
      await c.end();
    }
  };
  const s = quoteIdent(schema);
  await admin(`CREATE ROLE ${name} LOGIN`);
  await admin(`GRANT ALL ON SCHEMA ${s} TO ${name}; GRANT ALL ON ALL TABLES IN SCHEMA ${s} TO ${name}; GRANT ALL ON ALL SEQUENCES IN SCHEMA ${s} TO ${name}`);
  const url = new URL(adminUrl);
  url.username = name;
  url.password = '';
  const terminate = async () => (await admin<{ n: number }>(`select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where usename = $1`, [name]))[0]!.n;
  return {
    name,
    url: url.toString(),
    terminate,
    async lockOut() {
      await admin(`ALTER ROLE ${name} NOLOGIN`);
      return terminate();
    },
    async letIn() {
      await admin(`ALTER ROLE ${name} LOGIN`);
    },
    async drop() {
      await terminate().catch(() => undefined);
      await admin(`DROP OWNED BY ${name}; DROP ROLE IF EXISTS ${name}`).catch(() => undefined);
    },
  };
}
