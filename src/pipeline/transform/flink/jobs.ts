import { createHash } from 'node:crypto';
import { PermanentError, RetriableError, SyncError } from '../../../core/errors.js';
import { getLogger } from '../../../core/logger.js';
import { sleep } from '../../../core/retry.js';
import { FLINK_ERROR, FlinkRestClient, FlinkSqlGateway, rootCause, type GatewaySession } from './gateway.js';

/**
 * Management of named Flink SQL jobs on a session cluster: idempotent start (a running job with
 * the same `pipeline.name` is found, not duplicated), stop-with-savepoint and restore in a fresh
 * session, rollout of a changed spec, cancel, and the job's health (state, restarts, checkpoints).
 * Statements go through the SQL Gateway; job state comes from the JobManager REST API.
 */

/** A Flink SQL job, generic: the transform mapping generates one of these. */
export interface FlinkSqlJob {
  /** The job's name (`pipeline.name`): how a running job is found again after a restart. */
  name: string;
  /** DDL run first, in order: `CREATE TABLE` (source, sink, dead-letter), `CREATE VIEW`, `SET`... */
  statements: string[];
  /** The `INSERT INTO` statements, submitted together as one `EXECUTE STATEMENT SET` (one job). */
  statementSet: string[];
  /** Session configuration for the job (checkpointing interval, parallelism, time zone...). */
  config: Record<string, string>;
}

/** A job as listed by the JobManager. */
export interface FlinkJobInfo {
  id: string;
  name: string;
  /** INITIALIZING, CREATED, RUNNING, RESTARTING, FAILING, CANCELLING, CANCELED, FINISHED, FAILED, SUSPENDED, RECONCILING. */
  state: string;
  startTime: number;
  endTime: number | null;
  durationMs: number;
  tasks: { total: number; running: number };
}

/** A completed checkpoint or savepoint. */
export interface CheckpointRef {
  id: number;
  /** When it completed (ms since epoch). */
  completedAt: number;
  durationMs: number;
  externalPath: string | null;
  isSavepoint: boolean;
}

/** Checkpoint figures of one job (`/jobs/:id/checkpoints`). */
export interface FlinkCheckpointInfo {
  completed: number;
  failed: number;
  inProgress: number;
  /** How many times the job restored from a checkpoint (restarts after failures). */
  restored: number;
  lastCompleted: CheckpointRef | null;
  lastRestored: { id: number; restoredAt: number; externalPath: string | null; isSavepoint: boolean } | null;
  /** Age of the last completed checkpoint (ms), null when none completed yet. */
  lastCompletedAgeMs: number | null;
}

/** What `syncctl status` needs about one job. */
export interface FlinkJobHealth {
  job: FlinkJobInfo;
  /** Restarts since the job was submitted (`numRestarts`). */
  restarts: number;
  checkpoints: FlinkCheckpointInfo;
  /** The root cause of the latest failure, if there was one. */
  lastFailure: { at: number; message: string; exception?: string } | null;
}

/** The outcome of {@link FlinkJobManager.start} / {@link FlinkJobManager.ensure}. */
export interface StartResult {
  jobId: string;
  /** The name the job runs under (`<name> [<spec hash>]`). */
  jobName: string;
  /** `kept`: an active job with the same name and spec was found; `started`: submitted now; `upgraded`: stopped with a savepoint and restored with the new spec. */
  action: 'kept' | 'started' | 'upgraded';
  /** The savepoint the job was restored from, if any. */
  restoredFrom?: string;
  /** The job that was replaced (upgrade). */
  previousJobId?: string;
  /** Time spent submitting (ms), 0 when kept. */
  submitMs: number;
}

/** Settings of a {@link FlinkJobManager}. */
export interface FlinkJobManagerOptions {
  /** SQL Gateway REST URL, e.g. `http://127.0.0.1:28082`. */
  gatewayUrl: string;
  /** JobManager REST URL, e.g. `http://127.0.0.1:28081`. */
  restUrl: string;
  /** Timeout of one HTTP request (ms). */
  requestTimeoutMs?: number;
}

/** States in which a job is, or is about to be, processing: a second copy must not be submitted. */
export const ACTIVE_STATES = ['INITIALIZING', 'CREATED', 'RUNNING', 'RESTARTING', 'FAILING', 'RECONCILING', 'SUSPENDED'] as const;
/** States a job never leaves. */
export const TERMINAL_STATES = ['FINISHED', 'CANCELED', 'FAILED'] as const;

/** A short stable hash of a job spec; part of the job name, so a changed mapping is detected. */
export function specHash(job: FlinkSqlJob): string {
  const canon = JSON.stringify([job.statements, job.statementSet, Object.entries(job.config).sort(([a], [b]) => a.localeCompare(b))]);
  return createHash('sha256').update(canon).digest('hex').slice(0, 12);
}

/** The name a job runs under: `<name> [<spec hash>]`. */
export function jobNameOf(job: FlinkSqlJob): string {
  return `${job.name} [${specHash(job)}]`;
}

/** Whether a running job's name belongs to the spec name `name` (any spec hash, or none). */
export function nameMatches(runningName: string, name: string): boolean {
  return runningName === name || (runningName.startsWith(`${name} [`) && runningName.endsWith(']'));
}

/** The `EXECUTE STATEMENT SET` of a list of INSERTs (a lone INSERT is sent as is). */
export function statementSetSql(inserts: string[]): string {
  const clean = inserts.map((s) => s.trim().replace(/;+$/, '')).filter(Boolean);
  if (clean.length === 1) return clean[0]!;
  return `EXECUTE STATEMENT SET\nBEGIN\n${clean.map((s) => `${s};`).join('\n')}\nEND`;
}

/** Escapes a value for a single-quoted Flink SQL string literal. */
const lit = (v: string): string => `'${v.replace(/'/g, "''")}'`;

/** Starts, finds, stops, restores and inspects named Flink SQL jobs. */
export class FlinkJobManager {
  private readonly log = getLogger('flink');
  readonly gateway: FlinkSqlGateway;
  readonly rest: FlinkRestClient;

  constructor(opts: FlinkJobManagerOptions) {
    this.gateway = new FlinkSqlGateway({ url: opts.gatewayUrl, requestTimeoutMs: opts.requestTimeoutMs });
    this.rest = new FlinkRestClient({ url: opts.restUrl, requestTimeoutMs: opts.requestTimeoutMs });
  }

  /** Every job the JobManager knows (running and recently ended), newest first. */
  async listJobs(): Promise<FlinkJobInfo[]> {
    const res = await this.rest.call<{ jobs?: RawJob[] }>('GET', '/jobs/overview');
    return (res.jobs ?? []).map(toJobInfo).sort((a, b) => b.startTime - a.startTime);
  }

  /** One job by id; null when the JobManager does not know it. */
  async getJob(jobId: string): Promise<FlinkJobInfo | null> {
    return (await this.listJobs()).find((j) => j.id === jobId) ?? null;
  }

  /** The newest active job (see {@link ACTIVE_STATES}) whose name is `name` or `name [<hash>]`; null if none. */
  async findActive(name: string): Promise<FlinkJobInfo | null> {
    const jobs = await this.listJobs();
    const active = jobs.filter((j) => nameMatches(j.name, name) && (ACTIVE_STATES as readonly string[]).includes(j.state));
    if (active.length > 1) this.log.warn({ name, jobs: active.map((j) => j.id) }, 'more than one active Flink job with the same name');
    return active[0] ?? null;
  }

  /** The newest RUNNING job with that name (see {@link findActive} for the wider check). */
  async findRunning(name: string): Promise<FlinkJobInfo | null> {
    const jobs = await this.listJobs();
    return jobs.find((j) => nameMatches(j.name, name) && j.state === 'RUNNING') ?? null;
  }

  /**
   * Submits the job unless an active job with the same name exists (then returns it, whatever its
   * spec: use {@link ensure} to roll out a changed spec). `restoreFrom` restores a savepoint; the
   * submission always uses a fresh session, because `execution.state-recovery.path` would stick
   * to every later job of a reused session.
   */
  async start(job: FlinkSqlJob, opts: { restoreFrom?: string; allowNonRestoredState?: boolean; waitRunningMs?: number } = {}): Promise<StartResult> {
    const existing = await this.findActive(job.name);
    const jobName = jobNameOf(job);
    if (existing) {
      this.log.info({ jobId: existing.id, name: existing.name, state: existing.state }, 'Flink job already running: not submitting a duplicate');
      return { jobId: existing.id, jobName: existing.name, action: 'kept', submitMs: 0 };
    }
    return this.submit(job, jobName, opts);
  }

  /**
   * Brings the job to its spec: keeps a running job with the same spec hash, starts one when none
   * runs, and rolls out a changed spec by stop-with-savepoint and restore (no reprocessing).
   */
  async ensure(job: FlinkSqlJob, opts: { allowNonRestoredState?: boolean; waitRunningMs?: number } = {}): Promise<StartResult> {
    const existing = await this.findActive(job.name);
    const jobName = jobNameOf(job);
    if (!existing) return this.submit(job, jobName, opts);
    if (existing.name === jobName) return { jobId: existing.id, jobName, action: 'kept', submitMs: 0 };
    this.log.info({ jobId: existing.id, from: existing.name, to: jobName }, 'Flink job spec changed: stop with savepoint and restore');
    const savepoint = await this.stopWithSavepoint(existing.id);
    try {
      // Skipping unclaimed state is the default: a new or removed INSERT changes the generated
      // operator ids, and the sources then resume from the group offsets committed by the last
      // periodic checkpoint (neither savepoints nor manual checkpoints commit them): at-least-once.
      const res = await this.submit(job, jobName, { ...opts, restoreFrom: savepoint, allowNonRestoredState: opts.allowNonRestoredState ?? true });
      return { ...res, action: 'upgraded', previousJobId: existing.id };
    } catch (err) {
      throw new PermanentError(
        FLINK_ERROR.jobFailed,
        `Flink job ${job.name} was stopped with savepoint ${savepoint}, but the new spec could not start from it: ${(err as Error).message}`,
        { cause: err, details: { savepoint, previousJobId: existing.id }, hint: `Fix the spec and call start(job, { restoreFrom: '${savepoint}' }): the old job is stopped.` },
      );
    }
  }

  private async submit(
    job: FlinkSqlJob,
    jobName: string,
    opts: { restoreFrom?: string; allowNonRestoredState?: boolean; waitRunningMs?: number },
  ): Promise<StartResult> {
    if (job.statementSet.length === 0) throw new PermanentError(FLINK_ERROR.sqlInvalid, `Flink job ${job.name} has no INSERT statement.`);
    const t0 = Date.now();
    const props: Record<string, string> = { ...job.config, 'pipeline.name': jobName };
    if (opts.restoreFrom) {
      props['execution.state-recovery.path'] = opts.restoreFrom;
      props['execution.state-recovery.ignore-unclaimed-state'] = String(opts.allowNonRestoredState ?? false);
    }
    let session: GatewaySession | undefined;
    let jobId: string | undefined;
    try {
      session = await this.gateway.openSession(props, `syncctl:${job.name}`);
      for (const st of job.statements) await session.execute(st);
      jobId = (await session.execute(statementSetSql(job.statementSet))).jobId;
    } finally {
      await session?.close().catch(() => undefined);
    }
    if (!jobId) throw new PermanentError(FLINK_ERROR.badResponse, `The SQL Gateway returned no job id for ${job.name}.`);
    const submitMs = Date.now() - t0;
    this.log.info({ jobId, name: jobName, submitMs, restoredFrom: opts.restoreFrom }, 'Flink job submitted');
    if (opts.waitRunningMs !== 0) await this.waitRunning(jobId, opts.waitRunningMs ?? 60_000);
    return { jobId, jobName, action: 'started', restoredFrom: opts.restoreFrom, submitMs };
  }

  /** Waits until every task of the job runs; throws when it ends or keeps failing past the timeout. */
  async waitRunning(jobId: string, timeoutMs = 60_000): Promise<FlinkJobInfo> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.getJob(jobId);
      if (job && job.state === 'RUNNING' && job.tasks.total > 0 && job.tasks.running === job.tasks.total) return job;
      if (job && (TERMINAL_STATES as readonly string[]).includes(job.state)) {
        const f = await this.lastFailure(jobId).catch(() => null);
        throw new PermanentError(FLINK_ERROR.jobFailed, `Flink job ${jobId} ended ${job.state}${f ? `: ${f.message}` : ''}`, { details: { jobId } });
      }
      if (Date.now() > deadline) {
        const f = await this.lastFailure(jobId).catch(() => null);
        throw new RetriableError(FLINK_ERROR.jobFailed, `Flink job ${jobId} is not running after ${timeoutMs} ms (state ${job?.state ?? 'unknown'})${f ? `: ${f.message}` : ''}`, {
          details: { jobId },
        });
      }
      await sleep(200);
    }
  }

  /** Waits until the job is in one of `states`. */
  async waitForState(jobId: string, states: readonly string[], timeoutMs = 60_000): Promise<FlinkJobInfo> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.getJob(jobId);
      if (job && states.includes(job.state)) return job;
      if (Date.now() > deadline) {
        throw new RetriableError(FLINK_ERROR.timeout, `Flink job ${jobId} did not reach ${states.join('/')} within ${timeoutMs} ms (state ${job?.state ?? 'unknown'})`);
      }
      await sleep(200);
    }
  }

  /**
   * Stops the job with a savepoint (`STOP JOB ... WITH SAVEPOINT` through the gateway) and returns
   * the savepoint path. `drain` would fire all timers and windows (end of stream): not for a restart.
   */
  async stopWithSavepoint(jobId: string, opts: { drain?: boolean; timeoutMs?: number } = {}): Promise<string> {
    const session = await this.gateway.openSession({}, 'syncctl:stop');
    try {
      const res = await session.execute(`STOP JOB ${lit(jobId)} WITH SAVEPOINT${opts.drain ? ' WITH DRAIN' : ''}`, { timeoutMs: opts.timeoutMs ?? 120_000 });
      const path = res.rows[0]?.[0];
      if (typeof path !== 'string' || !path) throw new PermanentError(FLINK_ERROR.badResponse, `STOP JOB ${jobId} returned no savepoint path.`, { details: { res } });
      await this.waitForState(jobId, TERMINAL_STATES, opts.timeoutMs ?? 60_000);
      this.log.info({ jobId, savepoint: path }, 'Flink job stopped with a savepoint');
      return path;
    } finally {
      await session.close().catch(() => undefined);
    }
  }

  /** Triggers a savepoint of a running job without stopping it (JobManager REST); returns its path. */
  async savepoint(jobId: string, opts: { timeoutMs?: number } = {}): Promise<string> {
    const { 'request-id': rid } = await this.rest.call<{ 'request-id': string }>('POST', `/jobs/${jobId}/savepoints`, { 'cancel-job': false });
    const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
    for (;;) {
      const st = await this.rest.call<{ status: { id: string }; operation?: { location?: string; 'failure-cause'?: { 'stack-trace'?: string } } }>(
        'GET',
        `/jobs/${jobId}/savepoints/${rid}`,
      );
      if (st.status.id === 'COMPLETED') {
        if (st.operation?.location) return st.operation.location;
        const why = rootCause(st.operation?.['failure-cause']?.['stack-trace'] ?? 'unknown').message;
        throw new PermanentError(FLINK_ERROR.jobFailed, `Savepoint of Flink job ${jobId} failed: ${why}`);
      }
      if (Date.now() > deadline) throw new RetriableError(FLINK_ERROR.timeout, `Savepoint of Flink job ${jobId} did not complete in time.`);
      await sleep(200);
    }
  }

  /** Triggers a checkpoint now (`POST /jobs/:id/checkpoints`) and waits for it; returns its id. */
  async checkpointNow(jobId: string, opts: { timeoutMs?: number } = {}): Promise<number> {
    const { 'request-id': rid } = await this.rest.call<{ 'request-id': string }>('POST', `/jobs/${jobId}/checkpoints`, {});
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    for (;;) {
      const st = await this.rest.call<{ status: { id: string }; operation?: { checkpointId?: number; 'failure-cause'?: { 'stack-trace'?: string } } }>(
        'GET',
        `/jobs/${jobId}/checkpoints/${rid}`,
      );
      if (st.status.id === 'COMPLETED') {
        if (st.operation?.checkpointId !== undefined) return st.operation.checkpointId;
        const why = rootCause(st.operation?.['failure-cause']?.['stack-trace'] ?? 'unknown').message;
        throw new RetriableError(FLINK_ERROR.jobFailed, `Checkpoint of Flink job ${jobId} failed: ${why}`);
      }
      if (Date.now() > deadline) throw new RetriableError(FLINK_ERROR.timeout, `Checkpoint of Flink job ${jobId} did not complete in time.`);
      await sleep(100);
    }
  }

  /** Cancels the job (no savepoint) and waits until it ended; a job that already ended is fine. */
  async cancel(jobId: string, opts: { timeoutMs?: number } = {}): Promise<void> {
    try {
      await this.rest.call('PATCH', `/jobs/${jobId}?mode=cancel`);
    } catch (err) {
      if (err instanceof SyncError && err.code === FLINK_ERROR.notFound) return;
      throw err;
    }
    await this.waitForState(jobId, TERMINAL_STATES, opts.timeoutMs ?? 60_000);
  }

  /** Checkpoint counts, the last completed and the last restored checkpoint of a job. */
  async checkpoints(jobId: string): Promise<FlinkCheckpointInfo> {
    const c = await this.rest.call<RawCheckpoints>('GET', `/jobs/${jobId}/checkpoints`);
    const done = c.latest?.completed;
    const restored = c.latest?.restored;
    return {
      completed: c.counts?.completed ?? 0,
      failed: c.counts?.failed ?? 0,
      inProgress: c.counts?.in_progress ?? 0,
      restored: c.counts?.restored ?? 0,
      lastCompleted: done
        ? { id: done.id, completedAt: done.latest_ack_timestamp, durationMs: done.end_to_end_duration, externalPath: done.external_path ?? null, isSavepoint: !!done.is_savepoint }
        : null,
      lastRestored: restored
        ? { id: restored.id, restoredAt: restored.restore_timestamp, externalPath: restored.external_path ?? null, isSavepoint: !!restored.is_savepoint }
        : null,
      lastCompletedAgeMs: done ? Math.max(0, Date.now() - done.latest_ack_timestamp) : null,
    };
  }

  /**
   * Restarts since submission. The `numRestarts` metric stays 0 after a region failover (a lost
   * TaskManager) on Flink 2.2.1, so the count of failures in the exception history (each one
   * restarted the job; capped by `web.exception-history-size`, 16) is used when it is higher.
   */
  async restarts(jobId: string): Promise<number> {
    const [m, failures] = await Promise.all([
      this.rest.call<Array<{ id: string; value: string }>>('GET', `/jobs/${jobId}/metrics?get=numRestarts`),
      this.failures(jobId),
    ]);
    return Math.max(Number(m.find((x) => x.id === 'numRestarts')?.value ?? 0), failures.length);
  }

  /** The root cause of the job's latest failure (`/jobs/:id/exceptions`), null if it never failed. */
  async lastFailure(jobId: string): Promise<FlinkJobHealth['lastFailure']> {
    return (await this.failures(jobId, 1))[0] ?? null;
  }

  /** The job's failures, newest first, each reduced to its root cause. */
  async failures(jobId: string, max = 16): Promise<Array<NonNullable<FlinkJobHealth['lastFailure']>>> {
    const ex = await this.rest.call<{ exceptionHistory?: { entries?: Array<{ timestamp: number; stacktrace: string; exceptionName: string }> } }>(
      'GET',
      `/jobs/${jobId}/exceptions?maxExceptions=${max}`,
    );
    return (ex.exceptionHistory?.entries ?? []).map((e) => {
      const rc = rootCause(e.stacktrace);
      return { at: e.timestamp, message: rc.message, exception: rc.exception ?? e.exceptionName };
    });
  }

  /** State, restarts, checkpoints and last failure of a job, for `syncctl status` and alerts. */
  async health(jobId: string): Promise<FlinkJobHealth> {
    const job = await this.getJob(jobId);
    if (!job) throw new PermanentError(FLINK_ERROR.notFound, `Flink job ${jobId} is not known to the JobManager.`);
    const [restarts, checkpoints, failures] = await Promise.all([this.restarts(jobId), this.checkpoints(jobId), this.failures(jobId)]);
    return { job, restarts, checkpoints, lastFailure: failures[0] ?? null };
  }
}

interface RawJob {
  jid: string;
  name: string;
  state: string;
  'start-time': number;
  'end-time': number;
  duration: number;
  tasks?: { total?: number; running?: number };
}

interface RawCheckpoints {
  counts?: { restored?: number; total?: number; in_progress?: number; completed?: number; failed?: number };
  latest?: {
    completed?: { id: number; latest_ack_timestamp: number; end_to_end_duration: number; external_path?: string; is_savepoint?: boolean } | null;
    restored?: { id: number; restore_timestamp: number; external_path?: string; is_savepoint?: boolean } | null;
  };
}

function toJobInfo(j: RawJob): FlinkJobInfo {
  return {
    id: j.jid,
    name: j.name,
    state: j.state,
    startTime: j['start-time'],
    endTime: j['end-time'] > 0 ? j['end-time'] : null,
    durationMs: j.duration,
    tasks: { total: j.tasks?.total ?? 0, running: j.tasks?.running ?? 0 },
  };
}
