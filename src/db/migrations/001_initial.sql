-- 001: the four tables of the product contract (shared/spec/required-schema.sql), with the
-- columns syncctl adds, plus the entity map, dead letters and checkpoints.
-- Runs with search_path set to the configured schema; never name a schema here.

CREATE TABLE source_events (
    event_id UUID PRIMARY KEY,
    source_type VARCHAR(50),              -- SHOPIFY, WOOCOMMERCE, ERP
    source_id VARCHAR(100),               -- the platform's id of the entity (GID, Woo id, ERP key)
    event_type VARCHAR(50),               -- e.g. products/update, product.updated, erp.stock_levels.u
    data JSONB,                           -- the normalised payload
    timestamp TIMESTAMPTZ,                -- when the source says the change happened
    status VARCHAR(20),                   -- RECEIVED, PUBLISHED, PROCESSED, FAILED
    checksum VARCHAR(64),                 -- SHA-256 of the canonical JSON of data
    -- added by syncctl
    source_instance VARCHAR(50) NOT NULL DEFAULT 'default', -- instance name, e.g. main, eu, outlet
    origin VARCHAR(20) NOT NULL DEFAULT 'webhook',          -- webhook, poll, backfill, cdc, replay
    dedupe_key TEXT NOT NULL,             -- unique per delivery/version (X-Shopify-Event-Id, Woo delivery, ERP LSN)
    sku VARCHAR(255),                     -- normalised SKU when the payload names one entity
    received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at TIMESTAMPTZ              -- set by the outbox relay once on the raw topic
);
CREATE INDEX idx_source_events_timestamp ON source_events(timestamp);
CREATE INDEX idx_source_events_status ON source_events(status);
CREATE UNIQUE INDEX idx_source_events_dedupe ON source_events(source_type, source_instance, dedupe_key);
CREATE INDEX idx_source_events_checksum ON source_events(source_type, source_instance, source_id, checksum);
CREATE INDEX idx_source_events_unpublished ON source_events(received_at) WHERE published_at IS NULL;

CREATE TABLE sync_state (
    entity_id VARCHAR(100),               -- the canonical entity: normalised SKU
    source_type VARCHAR(50),              -- the source instance key, e.g. shopify:main, woocommerce:outlet, erp
    last_sync_at TIMESTAMPTZ,
    version INTEGER,                      -- our optimistic version of this row (bumped on every change)
    data JSONB,                           -- last known values (quantity, price, title...) and their source versions
    status VARCHAR(20),                   -- IN_SYNC, PENDING, CONFLICT, UNMATCHED, ERROR
    PRIMARY KEY (entity_id, source_type),
    -- added by syncctl
    source_version TEXT,                  -- the source's own version/updated_at of what we hold
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_sync_state_status ON sync_state(status);

CREATE TABLE conflict_log (
    conflict_id UUID PRIMARY KEY,
    entity_id VARCHAR(100),
    source_type VARCHAR(50),
    conflict_type VARCHAR(50),            -- FIELD_CONFLICT, UNMATCHED_SKU, DUPLICATE_SKU, ...
    resolution VARCHAR(50),               -- NULL while open; APPLIED_POLICY, USE_SOURCE, USE_VALUE, DISMISSED
    details JSONB,                        -- field, values per source, timestamps, policy
    created_at TIMESTAMPTZ,
    -- added by syncctl
    status VARCHAR(20) NOT NULL DEFAULT 'OPEN', -- OPEN, RESOLVED
    resolved_at TIMESTAMPTZ,
    resolved_by VARCHAR(100),
    note TEXT
);
CREATE INDEX idx_conflict_log_open ON conflict_log(status, conflict_type, created_at);
CREATE INDEX idx_conflict_log_entity ON conflict_log(entity_id);

CREATE TABLE sync_metrics (
    metric_id UUID PRIMARY KEY,
    metric_name VARCHAR(100),
    metric_value DOUBLE PRECISION,
    labels JSONB,
    timestamp TIMESTAMPTZ
);
CREATE INDEX idx_sync_metrics_name_timestamp ON sync_metrics(metric_name, timestamp);

-- Identity: which platform ids a canonical SKU has on each source instance.
CREATE TABLE entity_map (
    sku VARCHAR(255) NOT NULL,            -- normalised SKU (= sync_state.entity_id)
    source_key VARCHAR(100) NOT NULL,     -- shopify:main, woocommerce:outlet, erp
    platform_id VARCHAR(255) NOT NULL,    -- variant GID / Woo product or variation id / ERP key
    refs JSONB NOT NULL DEFAULT '{}',     -- other ids: product id, inventory item id, location id...
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (sku, source_key, platform_id)
);
CREATE INDEX idx_entity_map_platform ON entity_map(source_key, platform_id);

-- Events that failed permanently or ran out of retries, kept for inspection and replay.
CREATE TABLE dead_letters (
    dead_letter_id UUID PRIMARY KEY,
    event_id UUID,                        -- source_events.event_id when there is one
    source_key VARCHAR(100),
    sku VARCHAR(255),
    stage VARCHAR(50) NOT NULL,           -- intake, transform, sync, write:<target>
    error_class VARCHAR(20) NOT NULL,     -- RETRIABLE_EXHAUSTED, PERMANENT
    error_code VARCHAR(100),
    error_message TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,
    payload JSONB NOT NULL,
    context JSONB NOT NULL DEFAULT '{}',
    first_failed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_failed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    status VARCHAR(20) NOT NULL DEFAULT 'OPEN', -- OPEN, REPLAYED, SUPERSEDED, DISCARDED
    resolved_at TIMESTAMPTZ,
    note TEXT
);
CREATE INDEX idx_dead_letters_open ON dead_letters(status, last_failed_at);

-- Durable positions of pollers, backfills and other resumable work.
CREATE TABLE checkpoints (
    name VARCHAR(200) PRIMARY KEY,        -- e.g. poll:shopify:main:products
    value JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
