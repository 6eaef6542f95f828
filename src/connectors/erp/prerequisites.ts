import pg from 'pg';
import { ServiceUnavailableError } from '../../core/errors.js';
import { redactUrl } from '../../config/redact.js';
import type { ErpConfig } from '../../config/schema.js';

/** Codes of the ERP CDC prerequisite findings (stable: `init-db --json` and `status` show them). */
export type ErpPrerequisiteCode =
  | 'WAL_LEVEL'
  | 'REPLICATION_SLOTS_EXHAUSTED'
  | 'REPLICATION_PRIVILEGE'
  | 'TABLE_MISSING'
  | 'TABLE_SELECT'
  | 'TABLE_OWNERSHIP'
  | 'PUBLICATION_MISSING'
  | 'PUBLICATION_TABLES'
  | 'REPLICA_IDENTITY'
  | 'REPLICATION_ORIGIN_GRANTS'
  | 'SLOT_INACTIVE'
  | 'SLOT_LOST';

/** One problem with the ERP database's CDC setup, and the SQL that fixes it. */
export interface ErpPrerequisiteFinding {
  code: ErpPrerequisiteCode;
  /** `error`: CDC cannot work; `warning`: it works with a limitation or a risk. */
  severity: 'error' | 'warning';
  message: string;
  /** Statements to run (as a superuser or the tables' owner, see `runAs`), in order. */
  fix: string[];
  /** Who must run the statements. */
  runAs: 'superuser' | 'table owner' | 'superuser or table owner';
  /** What else to do (e.g. restart PostgreSQL). */
  note?: string;
}

/** The result of {@link checkErpPrerequisites}. */
export interface ErpPrerequisiteReport {
  /** No `error` findings. */
  ok: boolean;
  /** The role syncctl connects as (from the URL). */
  user: string;
  database: string;
  findings: ErpPrerequisiteFinding[];
}

/** Options of {@link checkErpPrerequisites}. */
export interface ErpPrerequisiteOptions {
  /** URL the ERP writer connects with, if it is another role (replication-origin grants are checked for it). */
  writerDatabaseUrl?: string;
  /** Tables whose before-images the ERP connector needs (REPLICA IDENTITY FULL); default: every mapped table. */
  fullIdentityTables?: string[];
}

/** Quotes an identifier only when PostgreSQL would need it, so printed SQL stays readable. */
export const ident = (name: string): string => (/^[a-z_][a-z0-9_$]*$/.test(name) ? name : pg.escapeIdentifier(name));
const qualified = (t: string): [string, string] => {
  const i = t.indexOf('.');
  return i < 0 ? ['public', t] : [t.slice(0, i), t.slice(i + 1)];
};
const tableIdent = (t: string): string => qualified(t).map(ident).join('.');

/** The replication-origin functions the ERP writer calls for echo suppression. */
export const REPLICATION_ORIGIN_FUNCTIONS = [
  'pg_replication_origin_create(text)',
  'pg_replication_origin_oid(text)',
  'pg_replication_origin_session_setup(text)',
  'pg_replication_origin_session_reset()',
] as const;

/**
 * Checks an ERP database (a user's own, or the sample) for what Debezium CDC and the ERP
 * writer need: `wal_level=logical`, a free replication slot, the REPLICATION attribute (or
 * superuser), the mapped tables (present, readable, owned for `publication.autocreate.mode=filtered`),
 * the publication, REPLICA IDENTITY FULL where before-images matter, and the replication-origin
 * grants for echo suppression. Each finding carries the exact statements that fix it.
 */
export async function checkErpPrerequisites(erp: ErpConfig, opts: ErpPrerequisiteOptions = {}): Promise<ErpPrerequisiteReport> {
  const tables = [...new Set(Object.values(erp.tables))];
  const findings: ErpPrerequisiteFinding[] = [];
  const { user, database } = await withClient(erp.databaseUrl, async (c) => {
    const who = (await c.query<{ user: string; db: string; super: boolean; repl: boolean }>(
      `select current_user as user, current_database() as db, rolsuper as super, rolreplication as repl
         from pg_roles where rolname = current_user`,
    )).rows[0]!;
    const u = ident(who.user);

    const settings = await c.query<{ name: string; setting: string }>(
      "select name, setting from pg_settings where name in ('wal_level', 'max_replication_slots', 'max_wal_senders')",
    );
    const setting = (n: string) => settings.rows.find((r) => r.name === n)?.setting ?? '';
    if (setting('wal_level') !== 'logical') {
      findings.push({
        code: 'WAL_LEVEL', severity: 'error', runAs: 'superuser',
        message: `wal_level is ${setting('wal_level')}; logical replication (Debezium) needs wal_level=logical.`,
        fix: ["ALTER SYSTEM SET wal_level = 'logical';"],
        note: 'Then restart PostgreSQL (a reload is not enough). Managed services set it elsewhere (RDS: rds.logical_replication=1 in the parameter group; Cloud SQL: cloudsql.logical_decoding=on).',
      });
    }

    const slots = await c.query<{ slot_name: string; active: boolean; wal_status: string | null; database: string | null }>(
      'select slot_name, active, wal_status, database from pg_replication_slots',
    );
    const ours = slots.rows.find((s) => s.slot_name === erp.slotName);
    const maxSlots = Number(setting('max_replication_slots'));
    if (!ours && slots.rowCount! >= maxSlots) {
      findings.push({
        code: 'REPLICATION_SLOTS_EXHAUSTED', severity: 'error', runAs: 'superuser',
        message: `All ${maxSlots} replication slots are in use; Debezium cannot create slot ${erp.slotName}.`,
        fix: [`ALTER SYSTEM SET max_replication_slots = ${maxSlots + 4};`, `ALTER SYSTEM SET max_wal_senders = ${Math.max(Number(setting('max_wal_senders')), maxSlots + 4)};`],
        note: 'Then restart PostgreSQL. Or drop an unused slot: SELECT pg_drop_replication_slot(\'<name>\');',
      });
    }
    if (ours?.wal_status === 'lost') {
      findings.push({
        code: 'SLOT_LOST', severity: 'error', runAs: 'superuser',
        message: `Replication slot ${erp.slotName} lost WAL it needed (max_slot_wal_keep_size); changes were missed.`,
        fix: [`SELECT pg_drop_replication_slot('${erp.slotName}');`],
        note: 'Then re-register the connector with snapshot.mode=initial (syncctl re-snapshots the ERP tables).',
      });
    } else if (ours && !ours.active) {
      findings.push({
        code: 'SLOT_INACTIVE', severity: 'warning', runAs: 'superuser',
        message: `Replication slot ${erp.slotName} exists but no connector reads it: it retains WAL until it is read or dropped.`,
        fix: [],
        note: 'Start Kafka Connect and the connector (syncctl status shows it), or remove the connector with syncctl, which drops the slot.',
      });
    }

    if (!who.super && !who.repl) {
      findings.push({
        code: 'REPLICATION_PRIVILEGE', severity: 'error', runAs: 'superuser',
        message: `Role ${who.user} has neither REPLICATION nor superuser; it cannot open a logical replication stream.`,
        fix: [`ALTER ROLE ${u} WITH REPLICATION;`],
        note: 'On Amazon RDS/Aurora: GRANT rds_replication TO ' + u + '; on Cloud SQL: ALTER USER ' + u + ' WITH REPLICATION; (as cloudsqlsuperuser).',
      });
    }

    const info = await c.query<{ t: string; exists: boolean; can_select: boolean; owned: boolean; owner: string | null; identity: string | null }>(
      `select t.t,
              c.oid is not null as exists,
              coalesce(has_table_privilege(current_user, c.oid, 'SELECT'), false) as can_select,
              coalesce(pg_has_role(current_user, c.relowner, 'USAGE'), false) as owned,
              pg_get_userbyid(c.relowner) as owner,
              c.relreplident::text as identity
         from unnest($1::text[]) as t(t)
         left join pg_namespace n on n.nspname = split_part(t.t, '.', 1)
         left join pg_class c on c.relnamespace = n.oid and c.relname = split_part(t.t, '.', 2) and c.relkind in ('r', 'p')`,
      [tables.map((t) => qualified(t).join('.'))],
    );
    const present = info.rows.filter((r) => r.exists);
    for (const r of info.rows.filter((x) => !x.exists)) {
      findings.push({
        code: 'TABLE_MISSING', severity: 'error', runAs: 'superuser or table owner',
        message: `Table ${r.t} (mapped in sources.erp.tables) does not exist in ${who.db}.`,
        fix: [],
        note: 'Point sources.erp.tables at the ERP\'s real tables, or create the sample ERP with syncctl sim erp --init.',
      });
    }
    const unreadable = present.filter((r) => !r.can_select);
    if (unreadable.length) {
      findings.push({
        code: 'TABLE_SELECT', severity: 'error', runAs: 'superuser or table owner',
        message: `Role ${who.user} cannot SELECT ${unreadable.map((r) => r.t).join(', ')} (needed for the initial snapshot).`,
        fix: unreadable.map((r) => `GRANT SELECT ON ${tableIdent(r.t)} TO ${u};`),
      });
    }

    const pub = await c.query<{ owned: boolean; alltables: boolean }>(
      'select pg_has_role(current_user, pubowner, \'USAGE\') as owned, puballtables as alltables from pg_publication where pubname = $1',
      [erp.publicationName],
    );
    const pubTables = (await c.query<{ t: string }>("select schemaname || '.' || tablename as t from pg_publication_tables where pubname = $1", [erp.publicationName])).rows.map((r) => r.t);
    const notOwned = present.filter((r) => !r.owned);
    const canCreateInDb = (await c.query<{ ok: boolean }>("select has_database_privilege(current_user, current_database(), 'CREATE') as ok")).rows[0]!.ok;
    const wanted = present.map((r) => r.t);
    const tableList = wanted.map(tableIdent).join(', ');
    const pubRow = pub.rows[0];
    // Debezium 3.7 (publication.autocreate.mode=filtered) creates the publication when missing and
    // runs ALTER PUBLICATION ... SET TABLE only when its table list differs from table.include.list:
    // both need ownership of every table (and of the publication, or CREATE on the database).
    const upToDate = Boolean(pubRow && (pubRow.alltables || (pubTables.length === wanted.length && wanted.every((t) => pubTables.includes(t)))));
    const ownershipFix = (owners: string[]) => [
      'CREATE ROLE syncctl_erp_owners NOLOGIN;',
      ...owners.map((o) => `GRANT syncctl_erp_owners TO ${ident(o)};`),
      `GRANT syncctl_erp_owners TO ${u};`,
      ...notOwned.map((r) => `ALTER TABLE ${tableIdent(r.t)} OWNER TO syncctl_erp_owners;`),
    ];
    const owners = [...new Set(notOwned.map((r) => r.owner ?? '?'))];
    if (!pubRow && !who.super && !(canCreateInDb && notOwned.length === 0)) {
      findings.push({
        code: 'PUBLICATION_MISSING', severity: 'error', runAs: 'superuser or table owner',
        message: `Publication ${erp.publicationName} does not exist and role ${who.user} cannot create it (${[
          canCreateInDb ? null : 'no CREATE privilege on the database',
          notOwned.length ? `does not own ${notOwned.map((r) => r.t).join(', ')}` : null,
        ].filter(Boolean).join('; ')}).`,
        fix: tableList ? [`CREATE PUBLICATION ${ident(erp.publicationName)} FOR TABLE ${tableList};`] : [],
        note: 'Or let Debezium manage it: GRANT CREATE ON DATABASE to the connector role and give it ownership of the tables (see TABLE_OWNERSHIP).',
      });
    } else if (pubRow && !upToDate && !who.super && !(pubRow.owned && notOwned.length === 0)) {
      findings.push({
        code: 'PUBLICATION_TABLES', severity: 'error', runAs: 'superuser or table owner',
        message: `Publication ${erp.publicationName} publishes ${pubTables.join(', ') || 'no table'} instead of ${wanted.join(', ')}, and role ${who.user} cannot change it (Debezium would fail at start).`,
        fix: [`ALTER PUBLICATION ${ident(erp.publicationName)} SET TABLE ${tableList};`],
      });
    }
    if (!who.super && notOwned.length) {
      findings.push({
        code: 'TABLE_OWNERSHIP', severity: 'warning', runAs: 'superuser',
        message: `Role ${who.user} does not own ${notOwned.map((r) => r.t).join(', ')} (owner: ${owners.join(', ')}): Debezium (publication.autocreate.mode=filtered) cannot create or alter the publication when sources.erp.tables changes; a DBA must do it.`,
        fix: ownershipFix(owners),
        note: 'A shared owner role keeps the application\'s own access unchanged while letting the connector role manage the publication.',
      });
    }

    const wantFull = (opts.fullIdentityTables ?? tables).map((t) => qualified(t).join('.'));
    const notFull = present.filter((r) => wantFull.includes(r.t) && r.identity !== 'f');
    if (notFull.length) {
      findings.push({
        code: 'REPLICA_IDENTITY', severity: 'warning', runAs: 'superuser or table owner',
        message: `${notFull.map((r) => r.t).join(', ')} log only the primary key as the old row: updates arrive without 'before' and deletes with the key only, so syncctl cannot compute deltas or undo a deleted line from one event.`,
        fix: notFull.map((r) => `ALTER TABLE ${tableIdent(r.t)} REPLICA IDENTITY FULL;`),
        note: 'FULL logs the whole old row on UPDATE/DELETE (more WAL on wide, busy tables).',
      });
    }
    if (!opts.writerDatabaseUrl) findings.push(...(await originFindings(c)));
    return { user: who.user, database: who.db };
  });
  if (opts.writerDatabaseUrl) findings.push(...(await withClient(opts.writerDatabaseUrl, originFindings)));
  return { ok: !findings.some((f) => f.severity === 'error'), user, database, findings };
}

/** The writer's role must call the replication-origin functions (superuser-only unless granted). */
async function originFindings(c: pg.Client): Promise<ErpPrerequisiteFinding[]> {
  const r = await c.query<{ user: string; super: boolean; f: string; ok: boolean }>(
    `select current_user as user, (select rolsuper from pg_roles where rolname = current_user) as super, f,
            has_function_privilege(current_user, f, 'EXECUTE') as ok
       from unnest($1::text[]) as f`,
    [REPLICATION_ORIGIN_FUNCTIONS],
  );
  const missing = r.rows.filter((x) => !x.super && !x.ok);
  if (!missing.length) return [];
  const u = ident(r.rows[0]!.user);
  return [{
    code: 'REPLICATION_ORIGIN_GRANTS', severity: 'warning', runAs: 'superuser',
    message: `Role ${r.rows[0]!.user} cannot use replication origins (${missing.map((x) => x.f.replace(/\(.*/, '')).join(', ')}): the ERP writer falls back to transaction-id echo suppression.`,
    fix: missing.map((x) => `GRANT EXECUTE ON FUNCTION ${x.f} TO ${u};`),
    note: 'With these grants the writer tags its transactions with its own replication origin, and the ERP connector drops their CDC events (deletes included).',
  }];
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, application_name: 'syncctl-erp-check' });
  try {
    await c.connect();
  } catch (err) {
    throw new ServiceUnavailableError('postgres', `The ERP database is not reachable at ${redactUrl(url)}.`, { cause: err, hint: 'Check sources.erp.databaseUrl (host, port, user, password, database).' });
  }
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** The findings as a script an operator can review and hand to the DBA. */
export function renderFixScript(report: ErpPrerequisiteReport): string {
  const lines: string[] = [];
  for (const f of report.findings) {
    lines.push(`-- [${f.severity}] ${f.code}: ${f.message}`);
    if (f.fix.length) lines.push(`-- run as: ${f.runAs}`, ...f.fix);
    if (f.note) lines.push(`-- ${f.note}`);
    lines.push('');
  }
  return lines.join('\n');
}
