/**
 * The Connect/slot supervisor: a leader task that keeps the Debezium connector registered and
 * running. Debezium can leave a task FAILED (while the REST status may say RUNNING during a
 * back-off), and an inactive slot retains WAL without bound; neither heals without someone
 * looking, so the leader looks every few seconds.
 */
import { events as defaultBus, type SyncEventBus } from '../../core/events.js';
import { describeError } from '../../core/errors.js';
import { getLogger } from '../../core/logger.js';
import type { LeaderTask } from '../../daemon/connector-set.js';
import type { DebeziumConnector, ErpCdcStatus } from './debezium.js';

const log = getLogger('erp-supervisor');

/** Settings of {@link ErpCdcSupervisor}. */
export interface ErpCdcSupervisorOptions {
  /** How often the leader checks (ms, default 5 000). */
  intervalMs?: number;
  /** Warn when the slot has been inactive this long (ms, default 30 000; a task start or snapshot makes it briefly inactive). */
  inactiveWarnMs?: number;
  /** Warn when the slot's lag exceeds this many bytes (default 256 MiB). */
  lagWarnBytes?: number;
  /**
   * Restart the task when the slot has been inactive this long although Connect says RUNNING
   * (a task stuck in back-off); 0 = never (default 120 000).
   */
  restartInactiveAfterMs?: number;
  events?: SyncEventBus;
}

/** What one supervision round found and did. */
export interface SupervisionRound {
  status: ErpCdcStatus | null;
  registered?: 'created' | 'updated' | 'unchanged';
  restarted: boolean;
  warnings: string[];
}

/**
 * Registers the connector idempotently on its first run (and again if it disappears), polls
 * `DebeziumConnector.status()`, restarts FAILED tasks, emits `connect.status` and
 * `debezium.slot`, and warns about a slot that stays inactive or lags too far behind.
 */
export class ErpCdcSupervisor implements LeaderTask {
  readonly name = 'erp-cdc-supervisor';
  readonly intervalMs: number;
  /** The last round's outcome (status command, tests). */
  last?: SupervisionRound;
  private registered = false;
  private inactiveSince: number | null = null;
  private readonly bus: SyncEventBus;

  constructor(
    private readonly dbz: DebeziumConnector,
    private readonly opts: ErpCdcSupervisorOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 5000;
    this.bus = opts.events ?? defaultBus;
  }

  async run(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    try {
      this.last = await this.round();
    } catch (err) {
      const d = describeError(err);
      this.bus.emit('error', { component: 'erp-supervisor', errorClass: 'retriable', code: d.code ?? 'ERP_SUPERVISOR' });
      log.warn({ err: d, connector: this.dbz.name }, 'ERP CDC supervision round failed');
      this.last = { status: null, restarted: false, warnings: [d.message] };
    }
  }

  /** One supervision round (what `run` does), returning what it found and did. */
  async round(): Promise<SupervisionRound> {
    let registered: SupervisionRound['registered'];
    if (!this.registered) {
      registered = (await this.dbz.register()).action;
      this.registered = true;
    }
    let s = await this.dbz.status();
    if (s.state === 'MISSING') {
      // Someone deleted it (or Connect lost its config topic): register again; offsets resume.
      registered = (await this.dbz.register()).action;
      s = await this.dbz.status();
    }
    let restarted = false;
    if (s.state !== 'MISSING') {
      this.bus.emit('connect.status', { connector: s.connector, state: s.state, tasks: s.tasks.map((t) => ({ id: t.id, state: t.state })) });
    }
    const failed = s.state === 'FAILED' || s.tasks.some((t) => t.state === 'FAILED');
    if (failed) {
      this.bus.emit('error', { component: 'erp-cdc', errorClass: 'retriable', code: 'ERP_CDC_TASK_FAILED' });
      log.warn({ connector: s.connector, tasks: s.tasks }, 'Debezium task FAILED: restarting it');
      await this.dbz.restartFailed();
      restarted = true;
      s = await this.dbz.status();
    }
    const warnings = [...s.warnings];
    const slot = s.slot;
    if (slot) {
      this.bus.emit('debezium.slot', { slot: slot.name, lagBytes: Math.max(0, slot.lagBytes ?? 0), active: slot.active });
      const now = Date.now();
      if (slot.active) this.inactiveSince = null;
      else this.inactiveSince ??= now;
      const inactiveFor = this.inactiveSince === null ? 0 : now - this.inactiveSince;
      if (inactiveFor >= (this.opts.inactiveWarnMs ?? 30_000)) {
        const w = `Replication slot ${slot.name} has been inactive for ${Math.round(inactiveFor / 1000)} s (lag ${slot.lagBytes ?? '?'} bytes): CDC is not reading it.`;
        warnings.push(w);
        log.warn({ slot: slot.name, inactiveMs: inactiveFor, lagBytes: slot.lagBytes, connector: s.state, tasks: s.tasks.map((t) => t.state) }, w);
        const restartAfter = this.opts.restartInactiveAfterMs ?? 120_000;
        if (!restarted && restartAfter > 0 && inactiveFor >= restartAfter && s.state === 'RUNNING') {
          log.warn({ connector: s.connector }, 'slot inactive although the connector says RUNNING: restarting its tasks');
          await this.dbz.connect.restart(this.dbz.name, { includeTasks: true, onlyFailed: false });
          this.inactiveSince = now; // give the restart its own grace period
          restarted = true;
        }
      }
      const limit = this.opts.lagWarnBytes ?? 256 * 2 ** 20;
      if ((slot.lagBytes ?? 0) > limit) {
        const w = `Replication slot ${slot.name} lags ${slot.lagBytes} bytes behind the server (threshold ${limit}).`;
        warnings.push(w);
        log.warn({ slot: slot.name, lagBytes: slot.lagBytes }, w);
      }
    }
    return { status: s, ...(registered ? { registered } : {}), restarted, warnings };
  }
}
