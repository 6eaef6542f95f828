import pg from 'pg';
import { ServiceUnavailableError } from '../../core/errors.js';
import { getLogger } from '../../core/logger.js';
import { ERP_SCHEMA_SQL } from './schema.js';
import { SeededRandom, hashToUint32 } from '../random.js';

const log = getLogger('sim.erp');

/** Default database of the sample ERP. */
export const DEFAULT_ERP_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/syncctl_erp';

/** Options of {@link initErp}. */
export interface ErpInitOptions {
  /** URL of the ERP database; created if missing. */
  databaseUrl: string;
  /** Products in the catalog (SKU numbers start at 1). */
  products?: number;
  /** Variants (SKUs) per product. */
  variantsPerProduct?: number;
  /** Seed of the generated data. */
  seed?: number;
  /** Historical sales orders to seed (at most `products`). */
  orders?: number;
}

/** What {@link initErp} found and did. */
export interface ErpInitResult {
  database: string;
  /** The database did not exist and was created. */
  createdDatabase: boolean;
  /** Rows inserted now (0 everywhere on a second run with the same options). */
  inserted: { warehouses: number; items: number; stockLevels: number; orders: number };
  /** Rows present afterwards. */
  totals: { items: number; stockLevels: number; orders: number };
}

/** The warehouses of the sample ERP (code, name). */
export const ERP_WAREHOUSES: ReadonlyArray<readonly [string, string]> = [
  ['MAIN', 'Main warehouse'],
  ['OUTLET', 'Outlet store'],
];

/** The shared SKU of variant `v` (from 1) of product `p` (from 1), as the channel simulators spell it. */
export const erpSku = (p: number, v: number): string => `SKU-${String(p).padStart(6, '0')}-${v}`;

/** The product code (the variants' common product) of product `p` (from 1). */
export const erpProductCode = (p: number): string => `P-${String(p).padStart(6, '0')}`;

const ADJECTIVES = ['Classic', 'Organic', 'Vintage', 'Urban', 'Alpine', 'Coastal', 'Modern', 'Rustic', 'Nordic', 'Solar'];
const NOUNS = ['Tee', 'Hoodie', 'Mug', 'Backpack', 'Candle', 'Notebook', 'Cap', 'Scarf', 'Bottle', 'Sneaker'];
const VARIANTS = ['S', 'M', 'L', 'XL', 'XXL', 'Red', 'Blue', 'Green', 'Black', 'White'];
const CHANNELS = ['shopify:main', 'woocommerce:outlet'];

/** The catalog price of a SKU, derived from the SKU alone (the same formula as the Shopify simulator's base price). */
export const basePrice = (sku: string): string => (5 + (hashToUint32(sku) % 9500) / 100).toFixed(2);

/** Creates the ERP database if it is missing (connecting to the server's `postgres` database). */
export async function ensureDatabase(databaseUrl: string): Promise<{ database: string; created: boolean }> {
  const u = new URL(databaseUrl);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!database) throw new ServiceUnavailableError('postgres', 'The ERP database URL names no database.', { hint: 'Use postgres://user@host:5432/<database>.' });
  u.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: u.toString(), connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (err) {
    throw new ServiceUnavailableError('postgres', `PostgreSQL is not reachable for the ERP database ${database}.`, { cause: err, hint: 'Start PostgreSQL or fix --database-url.' });
  }
  try {
    const r = await admin.query('select 1 from pg_database where datname = $1', [database]);
    if (r.rowCount) return { database, created: false };
    try {
      await admin.query(`create database ${pg.escapeIdentifier(database)}`);
    } catch (err) {
      // a concurrent init created it first
      if ((err as { code?: string }).code !== '42P04') throw err;
      return { database, created: false };
    }
    return { database, created: true };
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/**
 * Creates the sample ERP: the database if missing, the schema, and deterministic seed rows
 * (items with shared SKUs, stock in every warehouse, a few historical sales orders).
 * Idempotent: a second run with the same options inserts nothing and changes nothing.
 */
export async function initErp(opts: ErpInitOptions): Promise<ErpInitResult> {
  const products = opts.products ?? 100;
  const variants = opts.variantsPerProduct ?? 3;
  const seed = opts.seed ?? 1;
  const { database, created } = await ensureDatabase(opts.databaseUrl);
  const client = new pg.Client({ connectionString: opts.databaseUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    // Serialises concurrent inits of the same database (schema DDL is not concurrency-safe).
    await client.query('select pg_advisory_lock(hashtext($1))', ['syncctl-erp-init']);
    await client.query(ERP_SCHEMA_SQL);
    const rng = new SeededRandom(`erp:${seed}`);
    const skus: string[] = [];
    const names: string[] = [];
    const prices: string[] = [];
    const codes: string[] = [];
    const titles: string[] = [];
    const optionValues: Array<string | null> = [];
    for (let p = 1; p <= products; p++) {
      const title = `${ADJECTIVES[(p - 1) % ADJECTIVES.length]} ${NOUNS[Math.floor((p - 1) / ADJECTIVES.length) % NOUNS.length]} ${p}`;
      for (let v = 1; v <= variants; v++) {
        const sku = erpSku(p, v);
        skus.push(sku);
        names.push(variants === 1 ? title : `${title} / ${VARIANTS[(v - 1) % VARIANTS.length]}${v > VARIANTS.length ? ` ${v}` : ''}`);
        prices.push(basePrice(sku));
        codes.push(erpProductCode(p));
        titles.push(title);
        optionValues.push(variants === 1 ? null : `${VARIANTS[(v - 1) % VARIANTS.length]}${v > VARIANTS.length ? ` ${v}` : ''}`);
      }
    }
    await client.query('begin');
    const wh = await client.query(
      'insert into warehouses (code, name) select * from unnest($1::text[], $2::text[]) on conflict (code) do nothing',
      [ERP_WAREHOUSES.map((w) => w[0]), ERP_WAREHOUSES.map((w) => w[1])],
    );
    const items = await client.query(
      `insert into items (sku, name, price, product_code, product_title, vendor, product_type, option_name, option_value, description)
       select sku, name, price, code, title, 'Sample Co', split_part(title, ' ', 2), case when opt is null then null else 'Size' end, opt,
              'The ' || title || ', from the sample ERP.'
         from unnest($1::text[], $2::text[], $3::numeric[], $4::text[], $5::text[], $6::text[]) as u(sku, name, price, code, title, opt)
       on conflict (sku) do nothing`,
      [skus, names, prices, codes, titles, optionValues],
    );
    // Items of a database seeded before the product attributes existed get them once (idempotent).
    await client.query(
      `update items i set product_code = u.code, product_title = u.title, vendor = 'Sample Co', product_type = split_part(u.title, ' ', 2),
              option_name = case when u.opt is null then null else 'Size' end, option_value = u.opt
         from unnest($1::text[], $2::text[], $3::text[], $4::text[]) as u(sku, code, title, opt)
        where i.sku = u.sku and i.product_code is null`,
      [skus, codes, titles, optionValues],
    );
    const sSku: string[] = [];
    const sWh: string[] = [];
    const sQty: number[] = [];
    for (const sku of skus) {
      ERP_WAREHOUSES.forEach(([code], i) => {
        sSku.push(sku);
        sWh.push(code);
        sQty.push(i === 0 ? rng.int(0, 100) : rng.int(0, 20));
      });
    }
    const stock = await client.query(
      'insert into stock_levels (sku, warehouse, on_hand) select * from unnest($1::text[], $2::text[], $3::int[]) on conflict (sku, warehouse) do nothing',
      [sSku, sWh, sQty],
    );
    let orders = 0;
    const orderCount = Math.min(opts.orders ?? Math.min(20, products), products);
    for (let o = 1; o <= orderCount && skus.length > 0; o++) {
      const channel = CHANNELS[(o - 1) % CHANNELS.length]!;
      const lines = Array.from({ length: rng.int(1, 3) }, () => ({ sku: rng.pick(skus), qty: rng.int(1, 3) }));
      const total = lines.reduce((s, l) => s + l.qty * Number(basePrice(l.sku)), 0).toFixed(2);
      const r = await client.query<{ id: string }>(
        `insert into sales_orders (channel, channel_order_id, status, customer_email, total)
         values ($1, $2, $3, $4, $5) on conflict (channel, channel_order_id) do nothing returning id`,
        [channel, `SEED-${seed}-${String(o).padStart(5, '0')}`, o % 5 === 0 ? 'shipped' : 'open', `customer${o}@example.com`, total],
      );
      const id = r.rows[0]?.id;
      if (!id) continue;
      orders++;
      await client.query(
        `insert into sales_order_lines (order_id, line_no, sku, qty, price, warehouse)
         select $1, n, sku, qty, price, 'MAIN' from unnest($2::text[], $3::int[], $4::numeric[]) with ordinality as t(sku, qty, price, n)`,
        [id, lines.map((l) => l.sku), lines.map((l) => l.qty), lines.map((l) => basePrice(l.sku))],
      );
    }
    await client.query('commit');
    const t = await client.query<{ items: string; stock: string; orders: string }>(
      'select (select count(*) from items) as items, (select count(*) from stock_levels) as stock, (select count(*) from sales_orders) as orders',
    );
    const row = t.rows[0]!;
    const result: ErpInitResult = {
      database,
      createdDatabase: created,
      inserted: { warehouses: wh.rowCount ?? 0, items: items.rowCount ?? 0, stockLevels: stock.rowCount ?? 0, orders },
      totals: { items: Number(row.items), stockLevels: Number(row.stock), orders: Number(row.orders) },
    };
    log.info(result, 'sample ERP ready');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
}
