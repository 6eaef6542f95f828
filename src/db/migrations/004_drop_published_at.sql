-- 004: source_events.published_at has been unused since 003 (publication is the outbox entry's
-- deletion). Dropping a column is a catalog change: no table rewrite, however many events.
ALTER TABLE source_events DROP COLUMN IF EXISTS published_at;
