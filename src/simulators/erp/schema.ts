/**
 * The sample ERP's schema: a small but realistic order-to-stock model in its own database.
 *
 * REPLICA IDENTITY FULL is set where the before-image of a row matters to CDC consumers:
 * - `items`: a price change is a delta against the old price (conflict detection and the
 *   audit trail need both values), and a delete must still carry the name/price of the item.
 * - `stock_levels`: stock is synced as deltas; the old `on_hand`/`reserved` lets a consumer
 *   compute the change from one event, and a delete keeps the quantity that disappeared.
 * - `sales_orders`: status transitions (open → cancelled) are decided from before/after.
 * - `sales_order_lines`: a deleted or edited line must say which SKU and quantity it held, or
 *   stock commitments cannot be undone.
 * The default identity (primary key only) is enough for insert-only or audit tables
 * (`purchase_receipts`, `purchase_receipt_lines`, `stock_adjustments`, `warehouses`).
 * FULL costs WAL volume (the whole old row is logged on update/delete), so it is not set blindly.
 */
export const ERP_SCHEMA_SQL = `
create table if not exists warehouses (
  code        text primary key,
  name        text not null,
  active      boolean not null default true,
  updated_at  timestamptz not null default now()
);

create table if not exists items (
  sku         text primary key,
  name        text not null,
  description text,
  price       numeric(12,2) not null check (price >= 0),
  currency    text not null default 'EUR',
  active      boolean not null default true,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);

create table if not exists stock_levels (
  sku         text not null references items(sku) on delete cascade,
  warehouse   text not null references warehouses(code),
  on_hand     integer not null default 0,
  reserved    integer not null default 0 check (reserved >= 0),
  updated_at  timestamptz not null default now(),
  primary key (sku, warehouse)
);

create table if not exists stock_adjustments (
  id          bigserial primary key,
  sku         text not null references items(sku) on delete cascade,
  warehouse   text not null references warehouses(code),
  delta       integer not null,
  reason      text not null check (reason in ('count', 'damage', 'loss', 'found', 'return')),
  created_at  timestamptz not null default now()
);

create table if not exists sales_orders (
  id               bigserial primary key,
  channel          text not null,
  channel_order_id text not null,
  status           text not null default 'open' check (status in ('open', 'allocated', 'shipped', 'cancelled')),
  customer_email   text,
  currency         text not null default 'EUR',
  total            numeric(12,2) not null default 0,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  unique (channel, channel_order_id)
);

create table if not exists sales_order_lines (
  order_id    bigint not null references sales_orders(id) on delete cascade,
  line_no     integer not null,
  sku         text not null references items(sku),
  qty         integer not null check (qty > 0),
  price       numeric(12,2) not null check (price >= 0),
  warehouse   text references warehouses(code),
  primary key (order_id, line_no)
);

create sequence if not exists purchase_receipt_no_seq;

create table if not exists purchase_receipts (
  id          bigserial primary key,
  receipt_no  text not null unique,
  supplier    text not null,
  warehouse   text not null references warehouses(code),
  received_at timestamptz not null default now()
);

create table if not exists purchase_receipt_lines (
  receipt_id  bigint not null references purchase_receipts(id) on delete cascade,
  line_no     integer not null,
  sku         text not null references items(sku),
  qty         integer not null check (qty > 0),
  unit_cost   numeric(12,2) not null check (unit_cost >= 0),
  primary key (receipt_id, line_no)
);

create index if not exists stock_levels_warehouse_idx on stock_levels (warehouse);
create index if not exists sales_order_lines_sku_idx on sales_order_lines (sku);
create index if not exists purchase_receipt_lines_sku_idx on purchase_receipt_lines (sku);

-- Product attributes (issue 23): what a channel needs to create a listing. Several items (SKUs)
-- of one product_code are the variants of one product; option_name/option_value say how they
-- differ. Added with ADD COLUMN IF NOT EXISTS so an older sample database gains them in place.
alter table items add column if not exists product_code text;
alter table items add column if not exists product_title text;
alter table items add column if not exists vendor text;
alter table items add column if not exists product_type text;
alter table items add column if not exists option_name text;
alter table items add column if not exists option_value text;
alter table items add column if not exists barcode text;
alter table items add column if not exists weight_grams integer check (weight_grams is null or weight_grams >= 0);
alter table items add column if not exists compare_at_price numeric(12,2) check (compare_at_price is null or compare_at_price >= 0);
create index if not exists items_product_code_idx on items (product_code);

alter table items replica identity full;
alter table stock_levels replica identity full;
alter table sales_orders replica identity full;
alter table sales_order_lines replica identity full;
`;

/** Tables of the sample ERP, in dependency order. */
export const ERP_TABLES = [
  'warehouses',
  'items',
  'stock_levels',
  'stock_adjustments',
  'sales_orders',
  'sales_order_lines',
  'purchase_receipts',
  'purchase_receipt_lines',
] as const;
