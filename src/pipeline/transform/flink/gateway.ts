import { PermanentError, RetriableError, SyncError } from '../../../core/errors.js';
import { getLogger } from '../../../core/logger.js';
import { retry, sleep, type RetryOptions } from '../../../core/retry.js';

/**
 * A typed client of the Flink SQL Gateway REST API (v2+, `rowFormat=JSON`), Node 20 `fetch` only.
 *
 * Errors: the gateway answers a failed statement with HTTP 500 and a nested Java stack trace of
 * several kB; the useful part is the last `Caused by:` line, which becomes the error message.
 * Requests that cannot have taken effect (connection refused, 503) are retried with `retry()`;
 * a failed statement is never retried here, because resubmitting an INSERT is not idempotent.
 */

/** Error codes raised by the gateway client and the job manager. */
export const FLINK_ERROR = {
  /** The gateway (or JobManager REST) cannot be reached: start it (`syncctl stack up --flink`) or fix the URL. */
  unreachable: 'FLINK_UNREACHABLE',
  /** The session expired (10 min idle by default) or was closed: open a new one. */
  sessionNotFound: 'FLINK_SESSION_NOT_FOUND',
  /** The SQL does not parse or validate (unknown table, column, connector option...). */
  sqlInvalid: 'FLINK_SQL_INVALID',
  /** The cluster could not take the job (JobManager down, no slots...): retry later. */
  clusterUnavailable: 'FLINK_CLUSTER_UNAVAILABLE',
  /** Any other statement failure. */
  statementFailed: 'FLINK_STATEMENT_FAILED',
  /** A statement or REST call took longer than allowed. */
  timeout: 'FLINK_TIMEOUT',
  /** The REST API answered with something we do not understand. */
  badResponse: 'FLINK_BAD_RESPONSE',
  /** The REST resource (job, session operation) does not exist (HTTP 404). */
  notFound: 'FLINK_NOT_FOUND',
  /** A job did not reach the wanted state in time, or ended FAILED. */
  jobFailed: 'FLINK_JOB_FAILED',
} as const;

/** Settings of a {@link FlinkSqlGateway} client. */
export interface GatewayClientOptions {
  /** Base URL of the SQL Gateway REST endpoint, e.g. `http://127.0.0.1:28082`. */
  url: string;
  /** Timeout of one HTTP request, in ms (default 30 s). */
  requestTimeoutMs?: number;
  /** Retry settings for requests that cannot have taken effect (default: 5 attempts within 15 s). */
  retry?: Partial<RetryOptions>;
}

/** What `GET /v1/info` returns. */
export interface GatewayInfo {
  productName: string;
  version: string;
}

/** A column of a statement result. */
export interface ResultColumn {
  name: string;
  logicalType: { type: string; nullable: boolean; [k: string]: unknown };
}

/** The outcome of one statement. */
export interface StatementResult {
  /** The gateway's operation handle. */
  operationHandle: string;
  /** The job id, for `INSERT` / `EXECUTE STATEMENT SET` (and streaming queries). */
  jobId?: string;
  /** `SUCCESS` or `SUCCESS_WITH_CONTENT`. */
  resultKind?: string;
  columns: ResultColumn[];
  /** Row values, in column order (JSON row format). */
  rows: unknown[][];
  /** The rows keyed by column name. */
  records: Array<Record<string, unknown>>;
  /** True when paging stopped at `maxRows` rather than at the end of the result. */
  truncated: boolean;
}

/** Options of {@link FlinkSqlGateway.execute}. */
export interface ExecuteOptions {
  /** Give up waiting for the result after this long (default 120 s); the operation is cancelled. */
  timeoutMs?: number;
  /** Stop paging after this many rows and close the operation (for unbounded queries). */
  maxRows?: number;
  /** Extra configuration for this statement only (`executionConfig`). */
  config?: Record<string, string>;
}

interface ResultPage {
  resultType: 'NOT_READY' | 'PAYLOAD' | 'EOS';
  isQueryResult?: boolean;
  jobID?: string;
  resultKind?: string;
  results?: { columns?: ResultColumn[]; rowFormat?: string; data?: Array<{ kind: string; fields: unknown[] }> };
  nextResultUri?: string;
}

/** The root cause of a gateway error body: the last `Caused by:` line, without the prefix. */
export function rootCause(detail: string): { exception?: string; message: string; causes: string[] } {
  const lines = detail.split('\n').map((l) => l.trim());
  const causes = lines.filter((l) => l.startsWith('Caused by:')).map((l) => l.replace(/^Caused by:\s*/, ''));
  const last = causes.length ? causes[causes.length - 1]! : (lines.find((l) => l && !l.startsWith('at ')) ?? detail).trim();
  const m = /^([\w.$]+(?:Exception|Error|Throwable)):\s*([\s\S]*)$/.exec(last);
  return m ? { exception: m[1], message: m[2]!.trim() || m[1]!, causes } : { message: last, causes };
}

/** Turns a gateway error body into a {@link PermanentError} or {@link RetriableError} with a code. */
export function classifyGatewayError(status: number, detail: string, context: string): SyncError {
  const { exception, message, causes } = rootCause(detail);
  const all = `${causes.join('\n')}\n${message}`;
  const details = { status, exception, causes: causes.slice(-5) };
  const text = `${context}: ${message}`;
  if (/Session '[^']*' does not exist|Session .* not found/i.test(all)) {
    return new PermanentError(FLINK_ERROR.sessionNotFound, text, { details, hint: 'Gateway sessions expire after 10 min idle: open a new session (jobs keep running).' });
  }
  const cls = exception ?? '';
  if (/(SqlValidatorException|ValidationException|SqlParseException|SqlParserException|CalciteException|CatalogException|TableNotExistException)$/.test(cls)) {
    return new PermanentError(FLINK_ERROR.sqlInvalid, text, { details, hint: 'Fix the SQL (the generated Flink SQL of the transform mapping).' });
  }
  if (
    /(ConnectException|NoRouteToHostException|TimeoutException|RecipientUnreachableException|NoResourceAvailableException|RpcConnectionException)$/.test(cls) ||
    /Connection refused|Could not connect to|Could not retrieve the leader address/i.test(all) ||
    status === 503
  ) {
    return new RetriableError(FLINK_ERROR.clusterUnavailable, text, { details, hint: 'Is the Flink cluster up? `syncctl stack up --flink`, or check the JobManager.' });
  }
  if (status === 404) return new PermanentError(FLINK_ERROR.notFound, text, { details });
  return new PermanentError(FLINK_ERROR.statementFailed, text, { details });
}

/** JSON over HTTP to a Flink REST endpoint (SQL Gateway or JobManager), with coded errors. */
export class FlinkRestClient {
  protected readonly log = getLogger('flink');
  readonly url: string;
  private readonly requestTimeoutMs: number;
  private readonly retryOpts: Partial<RetryOptions>;

  constructor(opts: GatewayClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.retryOpts = { retries: 5, initialDelayMs: 250, maxDelayMs: 3_000, maxElapsedMs: 15_000, ...opts.retry };
  }

  /** One REST call: JSON in and out, errors classified, retried only when it cannot have taken effect. */
  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown, context?: string): Promise<T> {
    const what = context ?? `${method} ${path.split('?')[0]}`;
    return retry(async () => {
      let res: Response;
      try {
        res = await fetch(this.url + path, {
          method,
          headers: body === undefined ? undefined : { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.requestTimeoutMs),
        });
      } catch (err) {
        throw transportError(err, this.url, what);
      }
      const text = await res.text();
      if (!res.ok) {
        let detail = text;
        try {
          detail = ((JSON.parse(text) as { errors?: string[] }).errors ?? [text]).join('\n');
        } catch {
          // not JSON: keep the text
        }
        throw classifyGatewayError(res.status, detail, what);
      }
      try {
        return (text ? JSON.parse(text) : {}) as T;
      } catch (err) {
        throw new PermanentError(FLINK_ERROR.badResponse, `${what}: the Flink REST API answered with something that is not JSON`, { cause: err });
      }
    }, {
      ...this.retryOpts,
      // Only what cannot have reached the server (refused, 503) is retried; never a failed statement.
      shouldRetry: (err) => err instanceof SyncError && (err.code === FLINK_ERROR.unreachable || err.details?.status === 503),
      onRetry: (err, attempt, delayMs) => {
        this.log.debug({ err: (err as Error).message, attempt, delayMs }, 'retrying Flink REST call');
        this.retryOpts.onRetry?.(err, attempt, delayMs);
      },
    });
  }
}

/** The SQL Gateway REST client. Stateless apart from the URL: sessions are handles. */
export class FlinkSqlGateway extends FlinkRestClient {
  /** Product name and version of the gateway (`GET /v1/info`). */
  info(): Promise<GatewayInfo> {
    return this.call<GatewayInfo>('GET', '/v1/info');
  }

  /** Opens a session; `properties` are session config (`pipeline.name`, checkpointing, `execution.state-recovery.path`...). */
  async openSession(properties: Record<string, string> = {}, sessionName = 'syncctl'): Promise<GatewaySession> {
    const res = await this.call<{ sessionHandle?: string }>('POST', '/v1/sessions', { sessionName, properties });
    if (!res.sessionHandle) throw new PermanentError(FLINK_ERROR.badResponse, 'The SQL Gateway returned no session handle.', { details: { res } });
    return new GatewaySession(this, res.sessionHandle);
  }

  /** Keeps a session alive (sessions expire after `sql-gateway.session.idle-timeout`, 10 min by default). */
  async heartbeat(sessionHandle: string): Promise<void> {
    await this.call('POST', `/v1/sessions/${sessionHandle}/heartbeat`, {});
  }

  /** Closes a session. Jobs it submitted keep running. Closing an unknown session is not an error. */
  async closeSession(sessionHandle: string): Promise<void> {
    try {
      await this.call('DELETE', `/v1/sessions/${sessionHandle}`);
    } catch (err) {
      if (err instanceof SyncError && err.code === FLINK_ERROR.sessionNotFound) return;
      throw err;
    }
  }

  /** The session's effective configuration (`GET /v1/sessions/:h`). */
  async sessionConfig(sessionHandle: string): Promise<Record<string, string>> {
    const res = await this.call<{ properties?: Record<string, string> }>('GET', `/v1/sessions/${sessionHandle}`);
    return res.properties ?? {};
  }

  /**
   * Runs one statement and pages through its result (`rowFormat=JSON`) until the end, `maxRows`
   * or the timeout. Statement failures surface as the root cause (see {@link classifyGatewayError}).
   */
  async execute(sessionHandle: string, statement: string, opts: ExecuteOptions = {}): Promise<StatementResult> {
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const short = statement.replace(/\s+/g, ' ').trim().slice(0, 80);
    const { operationHandle } = await this.call<{ operationHandle: string }>('POST', `/v1/sessions/${sessionHandle}/statements`, {
      statement,
      executionTimeout: 0,
      ...(opts.config ? { executionConfig: opts.config } : {}),
    });
    const deadline = Date.now() + timeoutMs;
    const out: StatementResult = { operationHandle, columns: [], rows: [], records: [], truncated: false };
    let uri: string | undefined = `/v1/sessions/${sessionHandle}/operations/${operationHandle}/result/0?rowFormat=JSON`;
    let wait = 20;
    try {
      while (uri) {
        if (Date.now() > deadline) {
          throw new RetriableError(FLINK_ERROR.timeout, `Flink statement did not finish within ${timeoutMs} ms: ${short}`, { details: { operationHandle } });
        }
        const page: ResultPage = await this.call<ResultPage>('GET', uri, undefined, `statement "${short}"`);
        if (page.jobID) out.jobId = page.jobID;
        if (page.resultKind) out.resultKind = page.resultKind;
        if (page.results?.columns?.length) out.columns = page.results.columns;
        const data = page.results?.data ?? [];
        for (const row of data) out.rows.push(row.fields);
        if (page.resultType === 'EOS') break;
        if (opts.maxRows !== undefined && out.rows.length >= opts.maxRows) {
          out.truncated = true;
          out.rows.length = opts.maxRows;
          await this.closeOperation(sessionHandle, operationHandle).catch(() => undefined);
          break;
        }
        // NOT_READY, or an empty page of a still running query: back off a little (20 ms → 250 ms).
        if (page.resultType === 'NOT_READY' || data.length === 0) {
          await sleep(wait);
          wait = Math.min(250, wait * 2);
        } else wait = 20;
        uri = page.nextResultUri ? withRowFormat(page.nextResultUri) : undefined;
      }
    } catch (err) {
      if (err instanceof SyncError && err.code === FLINK_ERROR.timeout) {
        await this.cancelOperation(sessionHandle, operationHandle).catch(() => undefined);
      }
      throw err;
    }
    out.records = out.rows.map((r) => Object.fromEntries(out.columns.map((c, i) => [c.name, r[i]])));
    this.log.debug({ statement: short, jobId: out.jobId, rows: out.rows.length }, 'flink statement done');
    return out;
  }

  /** Cancels a running operation (e.g. an unbounded query); the job of an INSERT is not affected once submitted. */
  async cancelOperation(sessionHandle: string, operationHandle: string): Promise<void> {
    await this.call('POST', `/v1/sessions/${sessionHandle}/operations/${operationHandle}/cancel`, {});
  }

  /** Closes an operation and releases its result. */
  async closeOperation(sessionHandle: string, operationHandle: string): Promise<void> {
    await this.call('DELETE', `/v1/sessions/${sessionHandle}/operations/${operationHandle}/close`);
  }
}

/** The gateway's `nextResultUri` omits `rowFormat`, which API v2+ requires on every fetch. */
function withRowFormat(uri: string): string {
  return uri.includes('rowFormat=') ? uri : `${uri}${uri.includes('?') ? '&' : '?'}rowFormat=JSON`;
}

/** Maps a `fetch` failure to a coded error: refused connections are retriable, timeouts are not retried. */
export function transportError(err: unknown, url: string, what: string): SyncError {
  const e = err as { name?: string; cause?: { code?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return new RetriableError(FLINK_ERROR.timeout, `${what}: no answer from ${url} in time`, { cause: err });
  }
  return new RetriableError(FLINK_ERROR.unreachable, `${what}: cannot reach ${url} (${e?.cause?.code ?? (err as Error)?.message ?? 'network error'})`, {
    cause: err,
    hint: 'Start Flink (`syncctl stack up --flink`) or fix the Flink URLs in the configuration.',
  });
}

/** One gateway session: the handle plus the operations on it. */
export class GatewaySession {
  private timer?: NodeJS.Timeout;

  constructor(
    readonly gateway: FlinkSqlGateway,
    readonly handle: string,
  ) {}

  /** Runs one statement in this session (see {@link FlinkSqlGateway.execute}). */
  execute(statement: string, opts?: ExecuteOptions): Promise<StatementResult> {
    return this.gateway.execute(this.handle, statement, opts);
  }

  /** Sends one heartbeat. */
  heartbeat(): Promise<void> {
    return this.gateway.heartbeat(this.handle);
  }

  /** Sends heartbeats every `intervalMs` (default 60 s) until `close()`; failures are logged, not thrown. */
  keepAlive(intervalMs = 60_000): this {
    this.timer ??= setInterval(() => {
      this.heartbeat().catch((err: Error) => getLogger('flink').warn({ err: err.message }, 'Flink gateway session heartbeat failed'));
    }, intervalMs).unref();
    return this;
  }

  /** Stops the heartbeats and closes the session (its jobs keep running). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.gateway.closeSession(this.handle);
  }
}
