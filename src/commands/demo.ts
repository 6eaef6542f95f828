import { Flags } from '@oclif/core';
import chalk from 'chalk';
import pino from 'pino';
import { join } from 'node:path';
import { BaseCommand } from '../cli/base-command.js';
import { EXIT } from '../cli/exit-codes.js';
import { table } from '../cli/render.js';
import { configureLogger, type LogLevel } from '../core/logger.js';
import { runDemo, type DemoProblems, type DemoSnapshot, type DemoSummary, type SettleProgress } from '../services/demo/run-demo.js';
import { PATH_LABELS } from '../services/demo/latency.js';
import { packageRoot, stackDir } from '../stack/paths.js';

/** A second signal sooner than this after the first is the same keypress (npm forwards the terminal's SIGINT to its child). */
const SAME_KEYPRESS_MS = 1000;

/** The README's main job. */
export default class Demo extends BaseCommand<typeof Demo> {
  static override summary = 'Run the demo: local stack, two simulated Shopify stores, a WooCommerce site, the sample ERP, the daemon, live traffic, a final diff.';
  static override description = [
    'Uses config/config.yml unless --config is given. Shows a live view: events/s, sync latency p50/p99 over the last 30 s by path (ERP change → channels, sale on a channel → other channels, order → ERP, a channel corrected), and open dead letters and conflicts by kind: the ones the demo causes on purpose (orders for SKUs only one store sells, SKUs only one store has, price edits the ERP wins) apart from anything unexpected.',
    'Ctrl-C (or SIGTERM, or the end of --duration) stops the traffic, lets the pipeline settle (at most --settle-seconds, with progress), checks by reading every platform that the channels converged, prints a summary and stops everything it started: exit 0 when converged, 1 when not. A component that dies during the run (Kafka, Kafka Connect, the ERP connector, PostgreSQL) is named in one line and the demo ends at once with exit 3, without checking. A second Ctrl-C exits at once (exit 130; 143 for SIGTERM), still stopping the stack components the demo started.',
    'Kafka, Kafka Connect and the rest of the local stack run in sessions of their own: Ctrl-C reaches only the demo. The demo stops only the components it started itself; a stack that was already running stays up. The daemon\'s JSON logs go to <stack.dir>/logs/demo.log (to stderr with --log-level).',
  ].join('\n\n');
  static override examples = ['<%= config.bin %> demo', '<%= config.bin %> demo --duration 60 --json', '<%= config.bin %> demo --products 200 --orders-per-second 5'];
  static override flags = {
    duration: Flags.integer({ description: 'Seconds of live traffic, then stop and summarise (non-interactive).', min: 1 }),
    products: Flags.integer({ description: 'Products per simulated store.', default: 50, min: 1 }),
    'variants-per-product': Flags.integer({ description: 'Variants (SKUs) per product.', default: 2, min: 1 }),
    'orders-per-second': Flags.string({ description: 'Orders per second on each simulated store.', default: '2' }),
    'erp-changes-per-second': Flags.string({ description: 'ERP receipts, adjustments and price changes per second.', default: '2' }),
    'settle-seconds': Flags.integer({ description: 'Most seconds to let the pipeline settle after the traffic stops, before checking anyway.', default: 120, min: 1 }),
  };

  private drawn = 0;
  private readonly tty = Boolean(process.stderr.isTTY);

  public async run(): Promise<DemoSummary> {
    this.flags.config ??= `${packageRoot()}/config/config.yml`;
    const { config } = await this.loadConfig();
    const human = !this.jsonEnabled();
    const logFile = join(stackDir(config.stack.dir), 'logs', 'demo.log');
    if (!this.flags['log-level']) {
      // JSON logs in the middle of the live view read as errors: the daemon's logs go to a file.
      configureLogger({ level: config.logging.level as LogLevel, components: config.logging.components as Record<string, LogLevel>, destination: pino.destination({ dest: logFile, mkdir: true, append: false, sync: false }) as unknown as NodeJS.WritableStream });
    }
    const abort = new AbortController();
    let emergency: (() => Promise<void>) | undefined;
    // 1st signal: stop the traffic and finish properly; 2nd: exit now, still stopping the stack
    // components the demo started; 3rd: exit at once. npm forwards the terminal's SIGINT to its
    // child, which then gets one keypress twice: a signal right after the previous one is the same.
    let signals = 0;
    let lastAt = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      if (Date.now() - lastAt < SAME_KEYPRESS_MS) return;
      lastAt = Date.now();
      signals++;
      const key = sig === 'SIGINT' ? 'Ctrl-C' : sig;
      const code = sig === 'SIGTERM' ? 143 : 130;
      if (signals === 1) {
        if (human) this.phase(`${key}: stopping the traffic (${key} again to exit at once).`);
        abort.abort();
      } else if (signals === 2) {
        this.phase(`${key} again: exiting now, without the check.`);
        void (emergency ? emergency() : Promise.resolve()).finally(() => process.exit(code));
      } else process.exit(code);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    const summary = await runDemo(config, {
      durationSeconds: this.flags.duration,
      products: this.flags.products,
      variantsPerProduct: this.flags['variants-per-product'],
      ordersPerSecond: Number(this.flags['orders-per-second']),
      erpChangesPerSecond: Number(this.flags['erp-changes-per-second']),
      settleSeconds: this.flags['settle-seconds'],
      signal: abort.signal,
      onPhase: (m) => human && this.phase(m),
      onTick: (s) => human && this.live(s, logFile),
      onSettle: (p) => human && this.settling(p),
      onEmergencyStop: (fn) => (emergency = fn),
    });
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    if (summary.outcome === 'not-converged') this.setFindings();
    if (summary.outcome === 'component-failed') process.exitCode = EXIT.RUNTIME;
    if (summary.outcome === 'interrupted') process.exitCode = 130;
    if (human) this.printSummary(summary, this.flags['log-level'] ? undefined : logFile);
    // Whatever a dead component left behind (a client's reconnect timer), the demo ends here.
    const code = Number(process.exitCode ?? 0);
    setTimeout(() => process.exit(code), 3000).unref();
    return summary;
  }

  /** A line of progress below the live view (which stays on screen as it last was). */
  private phase(m: string): void {
    if (this.drawn && !this.tty) this.drawn = 0;
    if (this.drawn) process.stderr.write('\n');
    this.drawn = 0;
    process.stderr.write(`${chalk.cyan('›')} ${m}\n`);
  }

  /** Redraws a block of lines in place on a terminal; elsewhere prints it now and then. */
  private redraw(lines: string[], every: number, elapsed: number): void {
    if (!this.tty) {
      if (elapsed % every === 0) process.stderr.write(`${lines.join('\n')}\n`);
      return;
    }
    const width = Math.max(40, (process.stderr.columns ?? 100) - 1);
    const fit = lines.map((l) => truncate(l, width));
    // back to the first line of the block drawn last (the cursor is at the end of its last line), clear down
    let out = this.drawn ? `\r${this.drawn > 1 ? `\x1b[${this.drawn - 1}A` : ''}\x1b[J` : '';
    out += fit.join('\n');
    process.stderr.write(out);
    this.drawn = fit.length;
  }

  private live(s: DemoSnapshot, logFile: string): void {
    if (s.elapsedSeconds <= 1 && !this.drawn) {
      process.stderr.write(`  metrics: ${s.urls.metrics}\n  health:  ${s.urls.health}\n${this.flags['log-level'] ? '' : `  logs:    ${logFile}\n`}`);
    }
    const head = `[${clock(s.elapsedSeconds)}] ${s.eventsPerSecond} events/s · ${s.eventsProcessed} events processed · ${s.writesApplied} writes applied`;
    if (!this.tty) {
      const lat = s.latency.filter((l) => l.samples).map((l) => `${PATH_LABELS[l.path]} ${ms(l.p50Ms)}/${ms(l.p99Ms)}`).join(', ');
      this.redraw([`${head} · latency p50/p99 (last ${s.latencyWindowSeconds} s): ${lat || '-'} · ${expected(s.problems)} · unexpected: ${unexpected(s.problems) ?? 'none'}`], 10, s.elapsedSeconds);
      return;
    }
    const lines = [
      head,
      `  ${`sync latency, last ${s.latencyWindowSeconds} s`.padEnd(38)}${'p50'.padStart(7)}  ${'p99'.padStart(7)}  ${'writes'.padStart(7)}`,
      ...s.latency.filter((l) => s.withErp || !l.path.includes('erp')).map((l) => `    ${PATH_LABELS[l.path].padEnd(36)}${ms(l.p50Ms).padStart(7)}  ${ms(l.p99Ms).padStart(7)}  ${String(l.samples).padStart(7)}`),
      `  expected:   ${expectedParts(s.problems)[0]}`,
      `              ${expectedParts(s.problems).slice(1).join(' · ')}`,
      `  ${unexpected(s.problems) ? chalk.red(`unexpected: ${unexpected(s.problems)} (syncctl dlq list / conflicts list)`) : `unexpected: ${chalk.green('none')}`}`,
    ];
    this.redraw(lines, 1, s.elapsedSeconds);
  }

  private settling(p: SettleProgress): void {
    const line = `  settling ${p.elapsedSeconds} s of at most ${p.maxSeconds} s: ${p.pendingWrites} writes pending, ${p.unpublishedEvents} events to publish, ${n(p.arrivingPerSecond, 'event')}/s still arriving`;
    this.redraw([line], 10, p.elapsedSeconds);
  }

  private printSummary(s: DemoSummary, logFile: string | undefined): void {
    if (this.drawn) process.stderr.write('\n');
    this.drawn = 0;
    if (s.outcome === 'component-failed') {
      this.log(`\n${chalk.red('FAILED')}: ${s.failure!.message}`);
      this.log(`The demo stopped without checking convergence. ${logFile ? `The daemon's log: ${logFile}. ` : ''}Check the stack with \`syncctl stack status\`.`);
    } else if (s.outcome === 'interrupted') {
      this.log(`\nStopped before the live traffic began: nothing was checked.`);
    } else {
      this.log('');
      this.log(table(['CHANNEL', 'COMPARED', 'MISMATCHED', 'MISSING'], s.convergence!.channels.map((c) => [c.channel, String(c.compared), String(c.mismatched), String(c.missing)])));
      this.log(`\n${s.converged ? chalk.green('Converged') : chalk.red('NOT converged')}: every channel ${s.converged ? 'shows' : 'should show'} the ${s.convergence!.authority} quantity minus its buffer (${s.convergence!.skus} SKUs).${s.settled ? '' : ' (The pipeline had not settled.)'}`);
      const lat = s.latencyByPath.filter((l) => l.samples);
      if (lat.length) {
        this.log(`${'Sync latency over the run'.padEnd(38)}${'p50'.padStart(7)}  ${'p99'.padStart(8)}  ${'writes'.padStart(7)}`);
        for (const l of lat) this.log(`  ${PATH_LABELS[l.path].padEnd(36)}${ms(l.p50Ms).padStart(7)}  ${ms(l.p99Ms).padStart(8)}  ${String(l.samples).padStart(7)}`);
      }
      this.log(`Expected:   ${expectedParts(s.problems).join('\n            ')}`);
      this.log(`Unexpected: ${unexpected(s.problems) ?? 'none'}`);
    }
    this.log(`Events processed ${s.eventsProcessed}, writes ${s.writesApplied}, ${s.durationSeconds} s.${s.stackStarted.length ? ` Stopped what the demo started: ${s.stackStarted.join(', ')}.` : ''}`);
  }
}

const ms = (v: number | null): string => (v === null ? '-' : v >= 10_000 ? `${Math.round(v / 1000)} s` : v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${v} ms`);
const n = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;
const clock = (s: number): string => (s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`);
const truncate = (l: string, width: number): string => {
  // eslint-disable-next-line no-control-regex
  const visible = l.replace(/\x1b\[[0-9;]*m/g, '');
  return visible.length <= width ? l : `${visible.slice(0, width - 1)}…`;
};

/** What the demo causes on purpose. */
function expectedParts(p: DemoProblems): string[] {
  return [
    `held: ${n(p.heldOrderLines, 'order line')} for SKUs one store sells alone (dead letters)`,
    `${n(p.unmatchedSkus, 'unmatched SKU')} (conflicts)`,
    `${n(p.policyDecisions, 'concurrent edit')} decided by a field policy`,
  ];
}
const expected = (p: DemoProblems): string => expectedParts(p).join(' · ');

/** Anything else; undefined when there is nothing. */
function unexpected(p: DemoProblems): string | undefined {
  const parts = [
    ...p.otherDeadLetters.map((d) => `${n(d.count, 'dead letter')} ${d.stage} ${d.code}`),
    ...p.otherConflicts.map((c) => `${n(c.count, `open ${c.type} conflict`)}`),
  ];
  return parts.length ? parts.join(' · ') : undefined;
}

