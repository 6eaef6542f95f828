/** The diff service: live catalog comparison of two sides, `--fix` through the engine, and the scheduled drift check. */
export { runDiff, parseFields, quantityRule, DiffRun, DEFAULT_FIELDS, DIFFERENCE_KINDS, type Difference, type DifferenceKind, type DiffOptions, type DiffSummary } from './service.js';
export { resolveSide, pairName, parsePair, type DiffSide, type InstanceChoice } from './sides.js';
export { DIFF_FIELDS, type DiffField, type QuantityRule } from './staging.js';
export type { FixResult } from './fix.js';
export { readCatalog, type CatalogRow } from './catalog.js';
export { runDriftCheck, readDriftResults, readDriftResult, driftCheckTasks, driftPairs, driftCheckpointName, type DriftResult, type DriftTask } from './drift-check.js';
