-- 008: why a planned write exists, for the sync latency metric's `path` label: `change` (a change
-- announced by a source: webhook, poll, CDC, a sale) or `correction` (a difference nobody
-- announced, written after the settle window). A column with a constant default is a catalog
-- change: no table rewrite.
ALTER TABLE planned_writes ADD COLUMN IF NOT EXISTS cause TEXT NOT NULL DEFAULT 'change';
