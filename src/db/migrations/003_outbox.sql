-- 003: a narrow outbox and cheaper hot rows (engine throughput, issue 7).
--
-- The relay used to mark each published source_events row (an UPDATE of a wide row and of all
-- its indexes); it now deletes the row's entry from this narrow outbox instead, written by the
-- EventStore in the same transaction as the event. `seq` is the publication order.
CREATE TABLE outbox (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id UUID NOT NULL
);
INSERT INTO outbox (event_id)
    SELECT event_id FROM source_events WHERE published_at IS NULL ORDER BY received_at, event_id;
DROP INDEX IF EXISTS idx_source_events_unpublished;

-- The sync worker no longer marks each event PROCESSED (progress is the consumer groups'
-- offsets): status is RECEIVED, or FAILED once dead-lettered. Free space on sync_state pages
-- lets an update that leaves `status` alone stay on its page without touching the indexes (HOT).
ALTER TABLE sync_state SET (fillfactor = 70);
