/** The backfill service: a resumable load of a source's products, stock and orders into the pipeline. */
export { runBackfill, backfillPhases, backfillCheckpointName, type BackfillOptions, type BackfillResult, type BackfillProgress, type BackfillCheckpoint } from './service.js';
export { PHASES, type SourceCursor } from './sources.js';
