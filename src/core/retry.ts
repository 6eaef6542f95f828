import { isRetriable, RetriableError } from './errors.js';

/** Settings of one retry loop (exponential backoff with full jitter and a cap). */
export interface RetryOptions {
  /** Attempts in total, the first included. */
  retries: number;
  /** Delay before the second attempt, in ms. */
  initialDelayMs: number;
  /** Upper bound of one delay, in ms. */
  maxDelayMs: number;
  /** Growth factor of the delay per attempt. */
  factor: number;
  /** Give up once this much time has passed since the first attempt (ms); 0 = no limit. */
  maxElapsedMs: number;
  /** Which errors to retry; defaults to {@link isRetriable}. */
  shouldRetry?: (err: unknown, attempt: number) => boolean;
  /** Called before each wait, e.g. to count retries in metrics. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Aborts the waiting between attempts. */
  signal?: AbortSignal;
  /** Source of randomness in [0, 1), for tests. */
  random?: () => number;
}

/** Defaults used when a caller gives none (config `retry.*` overrides them in the daemon). */
export const DEFAULT_RETRY: RetryOptions = {
  retries: 8,
  initialDelayMs: 200,
  maxDelayMs: 30_000,
  factor: 2,
  maxElapsedMs: 0,
};

/**
 * The delay before attempt `attempt + 1` (attempt counts from 1): full jitter over an
 * exponentially growing window, bounded by `maxDelayMs`, and never shorter than what the
 * remote side asked for (`retryAfterMs`).
 */
export function backoffDelay(attempt: number, opts: Pick<RetryOptions, 'initialDelayMs' | 'maxDelayMs' | 'factor' | 'random'>, err?: unknown): number {
  const window = Math.min(opts.maxDelayMs, opts.initialDelayMs * opts.factor ** (attempt - 1));
  const rnd = (opts.random ?? Math.random)();
  // Half fixed, half random: keeps some spacing while still spreading a thundering herd.
  const delay = Math.round(window / 2 + (rnd * window) / 2);
  const asked = err instanceof RetriableError ? err.retryAfterMs ?? 0 : 0;
  return Math.max(delay, asked);
}

/** Sleeps `ms`, resolving early (with an AbortError) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `fn` until it succeeds, the error is not retriable, or the attempts/time run out.
 * The one retry loop of the code base (kafkajs style): every component uses it.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: Partial<RetryOptions> = {}): Promise<T> {
  const opts = { ...DEFAULT_RETRY, ...options };
  const shouldRetry = opts.shouldRetry ?? ((err: unknown) => isRetriable(err));
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const elapsed = Date.now() - started;
      const outOfTime = opts.maxElapsedMs > 0 && elapsed >= opts.maxElapsedMs;
      if (attempt >= opts.retries || outOfTime || !shouldRetry(err, attempt)) throw err;
      const delay = backoffDelay(attempt, opts, err);
      opts.onRetry?.(err, attempt, delay);
      await sleep(delay, opts.signal);
    }
  }
}
