import { PermanentError, RetriableError, ServiceUnavailableError } from '../../core/errors.js';
import { retry } from '../../core/retry.js';

/** State of a connector or task as Kafka Connect reports it. */
export type ConnectState = 'RUNNING' | 'PAUSED' | 'STOPPED' | 'FAILED' | 'UNASSIGNED' | 'RESTARTING';

/** `GET /connectors/<n>/status`. */
export interface ConnectConnectorStatus {
  name: string;
  connector: { state: ConnectState; worker_id: string; trace?: string };
  tasks: Array<{ id: number; state: ConnectState; worker_id: string; trace?: string }>;
  type?: string;
}

/**
 * A small client of the Kafka Connect REST API (the parts syncctl uses).
 * Network failures become `ServiceUnavailableError('connect')`; 409 (a rebalance in progress)
 * and 5xx are retriable; other 4xx are permanent with Connect's own message.
 */
export class ConnectRestClient {
  constructor(
    /** Base URL, e.g. `http://127.0.0.1:28083`. */
    readonly url: string,
    private readonly timeoutMs = 10_000,
    /** How long to keep retrying while Connect rebalances (409, or 500 "rebalance is expected"). */
    private readonly rebalanceWaitMs = 30_000,
  ) {}

  /** `GET /health` answers 200 (Connect 3.9+). */
  async healthy(): Promise<boolean> {
    try {
      const r = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(this.timeoutMs) });
      await r.arrayBuffer();
      return r.ok;
    } catch {
      return false;
    }
  }

  /** The worker's version and Kafka cluster id. */
  info(): Promise<{ version: string; commit: string; kafka_cluster_id: string }> {
    return this.call('GET', '/');
  }

  /** Installed connector plugins. */
  plugins(): Promise<Array<{ class: string; type: string; version: string }>> {
    return this.call('GET', '/connector-plugins');
  }

  /** Every connector with its status (`GET /connectors?expand=status`). */
  async list(): Promise<Record<string, { status: ConnectConnectorStatus }>> {
    return this.call('GET', '/connectors?expand=status');
  }

  /** The stored config of a connector, or null when there is no such connector. */
  getConfig(name: string): Promise<Record<string, string> | null> {
    return this.call('GET', `/connectors/${enc(name)}/config`, undefined, true);
  }

  /** Creates or updates a connector (`PUT /connectors/<n>/config`); `created` is true on 201. */
  async putConfig(name: string, config: Record<string, string>): Promise<{ created: boolean }> {
    const r = await this.raw('PUT', `/connectors/${enc(name)}/config`, config);
    return { created: r.status === 201 };
  }

  /** Connector and task states, or null when there is no such connector. */
  status(name: string): Promise<ConnectConnectorStatus | null> {
    return this.call('GET', `/connectors/${enc(name)}/status`, undefined, true);
  }

  /** `POST /connectors/<n>/restart`; with `onlyFailed` only FAILED instances restart. */
  async restart(name: string, opts: { includeTasks: boolean; onlyFailed: boolean }): Promise<void> {
    await this.raw('POST', `/connectors/${enc(name)}/restart?includeTasks=${opts.includeTasks}&onlyFailed=${opts.onlyFailed}`);
  }

  /** `PUT /connectors/<n>/stop`: tasks shut down, config kept (needed before offsets can be reset). */
  async stop(name: string): Promise<void> {
    await this.raw('PUT', `/connectors/${enc(name)}/stop`);
  }

  /** `DELETE /connectors/<n>/offsets`: forgets the source offsets of a STOPPED connector. */
  async resetOffsets(name: string): Promise<void> {
    await this.raw('DELETE', `/connectors/${enc(name)}/offsets`);
  }

  /** `DELETE /connectors/<n>`; false when there was no such connector. */
  async delete(name: string): Promise<boolean> {
    const r = await this.raw('DELETE', `/connectors/${enc(name)}`, undefined, true);
    return r.status !== 404;
  }

  private async call<T>(method: string, path: string, body?: unknown, allow404 = false): Promise<T> {
    const r = await this.raw(method, path, body, allow404);
    if (r.status === 404) return null as T;
    return (r.text ? JSON.parse(r.text) : null) as T;
  }

  /**
   * One request, repeated while Connect answers that it is rebalancing or failed on the server
   * side (every call syncctl makes is idempotent); unreachable Connect fails at once.
   */
  private raw(method: string, path: string, body?: unknown, allow404 = false): Promise<{ status: number; text: string }> {
    return retry(() => this.once(method, path, body, allow404), {
      retries: 100,
      initialDelayMs: 200,
      maxDelayMs: 2000,
      maxElapsedMs: this.rebalanceWaitMs,
      shouldRetry: (err) => err instanceof RetriableError,
    });
  }

  private async once(method: string, path: string, body?: unknown, allow404 = false): Promise<{ status: number; text: string }> {
    let res: Response;
    try {
      res = await fetch(this.url + path, {
        method,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new ServiceUnavailableError('connect', `Kafka Connect is not reachable at ${this.url} (${method} ${path}).`, {
        cause: err,
        hint: 'Start it with `syncctl stack up --connect` (local stack), or check the Connect URL.',
      });
    }
    const text = await res.text();
    if (res.ok || (allow404 && res.status === 404)) return { status: res.status, text };
    const message = connectMessage(text) ?? `HTTP ${res.status}`;
    const details = { method, path, status: res.status };
    if (res.status === 409) {
      throw new RetriableError('CONNECT_REBALANCING', `Kafka Connect is rebalancing; ${method} ${path} was refused: ${message}`, { details, retryAfterMs: 1000 });
    }
    if (res.status >= 500) {
      throw new RetriableError('CONNECT_SERVER_ERROR', `Kafka Connect failed ${method} ${path}: ${message}`, { details });
    }
    throw new PermanentError(res.status === 400 ? 'CONNECT_CONFIG_INVALID' : 'CONNECT_REQUEST_REJECTED', `Kafka Connect rejected ${method} ${path}: ${message}`, {
      details,
      hint: res.status === 400 ? 'Fix the ERP settings named above (sources.erp) and run again.' : undefined,
    });
  }
}

const enc = encodeURIComponent;

/** Connect's `{error_code, message}` body, shortened to the useful lines (config validation lists one error per line). */
function connectMessage(text: string): string | null {
  try {
    const j = JSON.parse(text) as { message?: string };
    return j.message ? j.message.split('\n').slice(0, 12).join('\n') : null;
  } catch {
    return text ? text.slice(0, 500) : null;
  }
}
