-- 002: what the sync engine needs: the inventory ledger (every sale counted once) and the
-- planned writes the writers execute (durable, idempotent, coalesced per target and SKU).

-- One row per order line per channel: the exact sales, with the state of each line.
CREATE TABLE inventory_ledger (
    source_key VARCHAR(100) NOT NULL,     -- the channel the order was placed on
    order_id VARCHAR(255) NOT NULL,
    line_id VARCHAR(255) NOT NULL,
    sku VARCHAR(255) NOT NULL,
    quantity INTEGER NOT NULL,            -- units the line commits now (0 once cancelled)
    status VARCHAR(20) NOT NULL,          -- COMMITTED, CANCELLED
    source_version TEXT NOT NULL,         -- the order's updated_at when last applied
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (source_key, order_id, line_id)
);
CREATE INDEX idx_inventory_ledger_sku ON inventory_ledger(sku);

-- Writes the engine decided; writers send them and record the outcome.
CREATE TABLE planned_writes (
    write_id UUID PRIMARY KEY,
    target_key VARCHAR(100) NOT NULL,     -- shopify:main, woocommerce:outlet, erp
    sku VARCHAR(255) NOT NULL,
    kind VARCHAR(20) NOT NULL,            -- inventory (absolute), fields, adjust (relative), order_line, order_line_cancel
    payload JSONB NOT NULL,
    idempotency_key TEXT NOT NULL,
    status VARCHAR(20) NOT NULL DEFAULT 'PENDING', -- PENDING, INFLIGHT, DONE, FAILED, SUPERSEDED
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before TIMESTAMPTZ NOT NULL DEFAULT now(),
    source_key VARCHAR(100),              -- where the change that caused it came from
    source_event_at TIMESTAMPTZ,          -- when that change happened (sync latency)
    last_error TEXT,
    result JSONB,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX idx_planned_writes_idempotency ON planned_writes(idempotency_key);
-- Coalescing: at most one pending absolute write per target, SKU and kind.
CREATE UNIQUE INDEX idx_planned_writes_coalesce ON planned_writes(target_key, sku, kind)
    WHERE status = 'PENDING' AND kind IN ('inventory', 'fields');
CREATE INDEX idx_planned_writes_due ON planned_writes(target_key, not_before) WHERE status = 'PENDING';
CREATE INDEX idx_planned_writes_inflight ON planned_writes(updated_at) WHERE status = 'INFLIGHT';
