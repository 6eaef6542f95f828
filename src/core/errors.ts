/**
 * Error classes shared by every part of syncctl.
 *
 * Borrowed from kafkajs and Shopify CLI: each error carries a stable `code`, a human
 * message that says what to do next, an optional `cause`, and whether retrying can help.
 * Code never matches on messages; it matches on classes and codes.
 */

/** Options accepted by every syncctl error. */
export interface SyncErrorOptions {
  /** The underlying error, kept for logs and `--log-level debug`. */
  cause?: unknown;
  /** What the operator should do next, printed under the message. */
  hint?: string;
  /** Extra structured context for logs and dead letters (never secrets). */
  details?: Record<string, unknown>;
}

/** Base class of every error syncctl raises on purpose. */
export class SyncError extends Error {
  /** Stable machine-readable code, e.g. `CONFIG_INVALID`. */
  readonly code: string;
  /** Whether repeating the same operation later may succeed. */
  readonly retriable: boolean;
  /** What the operator should do next. */
  readonly hint?: string;
  /** Structured context. */
  readonly details?: Record<string, unknown>;

  constructor(code: string, message: string, retriable: boolean, opts: SyncErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = retriable;
    this.hint = opts.hint;
    this.details = opts.details;
  }
}

/** A transient failure: timeouts, throttling, 5xx, a service that is restarting. */
export class RetriableError extends SyncError {
  /** Milliseconds the remote side asked us to wait, if it said (Retry-After, bucket). */
  readonly retryAfterMs?: number;
  constructor(code: string, message: string, opts: SyncErrorOptions & { retryAfterMs?: number } = {}) {
    super(code, message, true, opts);
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** A failure that repeating will not fix: validation errors, 4xx, unmappable data. */
export class PermanentError extends SyncError {
  constructor(code: string, message: string, opts: SyncErrorOptions = {}) {
    super(code, message, false, opts);
  }
}

/** The user's configuration or command line is wrong (exit code 2). */
export class ConfigError extends SyncError {
  constructor(code: string, message: string, opts: SyncErrorOptions = {}) {
    super(code, message, false, opts);
  }
}

/** A service syncctl needs (PostgreSQL, Kafka, Redis, Connect...) cannot be reached (exit code 3). */
export class ServiceUnavailableError extends SyncError {
  /** Which service, e.g. `postgres`, `kafka`, `redis`. */
  readonly service: string;
  constructor(service: string, message: string, opts: SyncErrorOptions = {}) {
    super('SERVICE_UNAVAILABLE', message, true, opts);
    this.service = service;
  }
}

/** A bug in syncctl itself: an invariant broke. Always logged with a stack trace. */
export class BugError extends SyncError {
  constructor(message: string, opts: SyncErrorOptions = {}) {
    super('BUG', message, false, opts);
  }
}

/** Whether an unknown thrown value is worth retrying. Unknown errors count as retriable once classified by callers. */
export function isRetriable(err: unknown): boolean {
  if (err instanceof SyncError) return err.retriable;
  const e = err as { retriable?: unknown; code?: unknown } | null;
  if (e && typeof e.retriable === 'boolean') return e.retriable;
  if (e && typeof e.code === 'string') {
    return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT'].includes(e.code);
  }
  return false;
}

/** A short one-line description of any thrown value, for logs and dead letters. */
export function describeError(err: unknown): { name: string; code?: string; message: string } {
  if (err instanceof SyncError) return { name: err.name, code: err.code, message: err.message };
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, code: typeof code === 'string' ? code : undefined, message: err.message };
  }
  return { name: 'NonError', message: String(err) };
}
