/**
 * A consistent snapshot of the ERP's catalog read straight from its tables: every item with its
 * available stock (Σ over warehouses of on_hand − reserved, the rule of the CDC source), in SKU
 * order, through one server-side cursor in a REPEATABLE READ, READ ONLY transaction. The
 * snapshot's version is the WAL position read in that transaction, the same kind of version the
 * CDC source gives, so a change captured after the snapshot always wins over it.
 */
import pg from 'pg';
import { ServiceUnavailableError } from '../../core/errors.js';
import { redactUrl } from '../../config/redact.js';
import type { ErpConfig } from '../../config/schema.js';
import { lsnVersion } from '../../core/versions.js';

/** One ERP item with its stock. */
export interface ErpItemRow {
  sku: string;
  name: string | null;
  price: string | null;
  active: boolean | null;
  available: number;
}

/** One fetch of the cursor. */
export interface ErpSnapshotBatch {
  rows: ErpItemRow[];
  /** The snapshot's version (zero-padded WAL position). */
  version: string;
  /** The last SKU of this batch (resume after it). */
  lastSku: string | null;
}

/** Options of {@link readErpSnapshot}. */
export interface ErpSnapshotOptions {
  /** Resume after this SKU (keyset). */
  afterSku?: string | null;
  /** Only items changed (item or stock row) at or after this time. */
  since?: Date | null;
  batchSize?: number;
  signal?: AbortSignal;
}

const qualify = (t: string): string => (t.includes('.') ? t : `public.${t}`);
const ident = (t: string): string => qualify(t).split('.').map((p) => `"${p.replace(/"/g, '""')}"`).join('.');

/** Streams the ERP's items and stock in SKU order. */
export async function* readErpSnapshot(erp: ErpConfig, opts: ErpSnapshotOptions = {}): AsyncGenerator<ErpSnapshotBatch> {
  const client = new pg.Client({ connectionString: erp.databaseUrl, connectionTimeoutMillis: 5000, application_name: 'syncctl-erp-snapshot' });
  try {
    await client.connect();
  } catch (err) {
    throw new ServiceUnavailableError('erp', `Cannot connect to the ERP database at ${redactUrl(erp.databaseUrl)}: ${(err as Error).message}`, { cause: err, hint: 'Is the ERP database up? Check sources.erp.databaseUrl.' });
  }
  client.on('error', () => undefined);
  const items = ident(erp.tables.products);
  const stock = ident(erp.tables.stock);
  const filters: string[] = [];
  if (opts.afterSku) filters.push(`i.sku > ${client.escapeLiteral(opts.afterSku)}`);
  if (opts.since) {
    const t = client.escapeLiteral(opts.since.toISOString());
    filters.push(`(i.updated_at >= ${t} or exists (select 1 from ${stock} x where x.sku = i.sku and x.updated_at >= ${t}))`);
  }
  try {
    await client.query('begin isolation level repeatable read, read only');
    const lsn = await client.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn');
    const version = lsnVersion(lsn.rows[0]!.lsn);
    await client.query(
      `declare erp_snapshot no scroll cursor for
         select i.sku, i.name, i.price::text as price, i.active, coalesce(sum(s.on_hand - s.reserved), 0)::bigint::text as available
           from ${items} i left join ${stock} s on s.sku = i.sku
          ${filters.length ? `where ${filters.join(' and ')}` : ''}
          group by i.sku order by i.sku`,
    );
    const size = opts.batchSize ?? 5000;
    for (;;) {
      opts.signal?.throwIfAborted();
      const r = await client.query<{ sku: string; name: string | null; price: string | null; active: boolean | null; available: string }>(`fetch ${size} from erp_snapshot`);
      if (r.rows.length === 0) break;
      const rows = r.rows.map((x) => ({ sku: x.sku, name: x.name, price: x.price, active: x.active, available: Number(x.available) }));
      yield { rows, version, lastSku: rows[rows.length - 1]!.sku };
      if (r.rows.length < size) break;
    }
    await client.query('commit');
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** How many items the snapshot would read (for progress). */
export async function countErpItems(erp: ErpConfig): Promise<number | null> {
  const client = new pg.Client({ connectionString: erp.databaseUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const r = await client.query<{ n: string }>(`select count(*)::text as n from ${ident(erp.tables.products)}`);
    return Number(r.rows[0]!.n);
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}
