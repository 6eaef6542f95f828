import type { SyncConfig } from '../config/schema.js';
import { stackStatus } from '../stack/manager.js';
import type { StackComponentStatus } from '../stack/component.js';
import { createPool } from '../db/pool.js';
import { describeError } from '../core/errors.js';

/** The health report behind `syncctl status`. */
export interface StatusReport {
  healthy: boolean;
  components: StackComponentStatus[];
  database: { reachable: boolean; migrated: boolean; detail?: string; openConflicts?: number; openDeadLetters?: number; unpublishedEvents?: number };
  problems: string[];
}

/** Collects the health of the stack and of syncctl's own state. Never throws for a component that is down. */
export async function collectStatus(config: SyncConfig): Promise<StatusReport> {
  const components = await stackStatus(config, { connect: true, flink: true });
  const problems: string[] = [];
  for (const c of components) {
    const required = ['postgres', 'redis', 'kafka'].includes(c.component) || c.managed;
    if (required && !c.ready) problems.push(`${c.component} is down${c.detail ? `: ${c.detail}` : ''}`);
  }
  const database: StatusReport['database'] = { reachable: false, migrated: false };
  try {
    const pool = await createPool({ url: config.database.url, schema: config.database.schema, max: 1 });
    try {
      database.reachable = true;
      const m = await pool.query("select to_regclass('syncctl_migrations') is not null as ok");
      database.migrated = Boolean(m.rows[0]?.ok);
      if (database.migrated) {
        const r = await pool.query<{ conflicts: string; dlq: string; unpublished: string }>(
          `select (select count(*) from conflict_log where status = 'OPEN') as conflicts,
                  (select count(*) from dead_letters where status = 'OPEN') as dlq,
                  (select count(*) from source_events where published_at is null) as unpublished`,
        );
        database.openConflicts = Number(r.rows[0]!.conflicts);
        database.openDeadLetters = Number(r.rows[0]!.dlq);
        database.unpublishedEvents = Number(r.rows[0]!.unpublished);
      } else problems.push('the database is not initialised: run `syncctl init-db`');
    } finally {
      await pool.end();
    }
  } catch (err) {
    database.detail = describeError(err).message;
    problems.push(`database unreachable: ${database.detail}`);
  }
  return { healthy: problems.length === 0, components, database, problems };
}
