import chalk from 'chalk';
import { table } from './render.js';
import { PATH_LABELS } from '../services/demo/latency.js';
import type { DemoProblems, DemoSnapshot, DemoSummary, SettleProgress } from '../services/demo/run-demo.js';

/**
 * What `syncctl demo` shows a person: progress lines, the live view (redrawn in place on a
 * terminal, printed every 10 s elsewhere), the settle's progress, the summary.
 */
export class DemoView {
  /** Lines of the block drawn last (redrawn in place on a terminal). */
  private drawn = 0;
  private readonly tty = Boolean(process.stderr.isTTY);

  /** `logFile`: where the daemon's logs go (shown under the URLs), when not on stderr. */
  constructor(private readonly logFile?: string) {}

  /** A line of progress below the live view (which stays on screen as it last was). */
  phase(m: string): void {
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

  /** The live view: events/s, latency over the window by path, expected and unexpected problems. */
  live(s: DemoSnapshot): void {
    if (s.elapsedSeconds <= 1 && !this.drawn) {
      process.stderr.write(`  metrics: ${s.urls.metrics}\n  health:  ${s.urls.health}\n${this.logFile ? `  logs:    ${this.logFile}\n` : ''}`);
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

  /** The settle's progress and its bound. */
  settling(p: SettleProgress): void {
    const line = `  settling ${p.elapsedSeconds} s of at most ${p.maxSeconds} s: ${p.pendingWrites} writes pending, ${p.unpublishedEvents} events to publish, ${n(p.arrivingPerSecond, 'event')}/s still arriving`;
    this.redraw([line], 10, p.elapsedSeconds);
  }

  /** The summary (stdout, through `log`). */
  summary(s: DemoSummary, log: (line: string) => void): void {
    if (this.drawn) process.stderr.write('\n');
    this.drawn = 0;
    if (s.outcome === 'component-failed') {
      log(`\n${chalk.red('FAILED')}: ${s.failure!.message}`);
      log(`The demo stopped without checking convergence. ${this.logFile ? `The daemon's log: ${this.logFile}. ` : ''}Check the stack with \`syncctl stack status\`.`);
    } else if (s.outcome === 'interrupted') {
      log(`\nStopped before the live traffic began: nothing was checked.`);
    } else {
      log('');
      log(table(['CHANNEL', 'COMPARED', 'MISMATCHED', 'MISSING'], s.convergence!.channels.map((c) => [c.channel, String(c.compared), String(c.mismatched), String(c.missing)])));
      log(`\n${s.converged ? chalk.green('Converged') : chalk.red('NOT converged')}: every channel ${s.converged ? 'shows' : 'should show'} the ${s.convergence!.authority} quantity minus its buffer (${s.convergence!.skus} SKUs).${s.settled ? '' : ' (The pipeline had not settled.)'}`);
      const lat = s.latencyByPath.filter((l) => l.samples);
      if (lat.length) {
        log(`${'Sync latency over the run'.padEnd(38)}${'p50'.padStart(7)}  ${'p99'.padStart(8)}  ${'writes'.padStart(7)}`);
        for (const l of lat) log(`  ${PATH_LABELS[l.path].padEnd(36)}${ms(l.p50Ms).padStart(7)}  ${ms(l.p99Ms).padStart(8)}  ${String(l.samples).padStart(7)}`);
      }
      log(`Expected:   ${expectedParts(s.problems).join('\n            ')}`);
      log(`Unexpected: ${unexpected(s.problems) ?? 'none'}`);
    }
    log(`Events processed ${s.eventsProcessed}, writes ${s.writesApplied}, ${s.durationSeconds} s.${s.stackStarted.length ? ` Stopped what the demo started: ${s.stackStarted.join(', ')}.` : ''}`);
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


/** 1st signal, 2nd, then any later one; a signal right after the previous one is the same keypress. */
export interface DemoSignalHandlers {
  first(key: string): void;
  second(key: string, exitCode: number): void;
}

/** A second signal sooner than this after the previous one is the same keypress (npm forwards the terminal's SIGINT to its child). */
const SAME_KEYPRESS_MS = 1000;

/**
 * The demo's signals: the first SIGINT/SIGTERM stops the traffic and lets the demo finish
 * properly; the second exits soon (the handler stops what the demo started); a third exits at
 * once (130 for SIGINT, 143 for SIGTERM). npm forwards the terminal's SIGINT to its child, which
 * then gets one keypress twice: a signal within a second of the previous one is ignored.
 * Returns a function that removes the handlers.
 */
export function onDemoSignals(h: DemoSignalHandlers): () => void {
  let signals = 0;
  let lastAt = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (Date.now() - lastAt < SAME_KEYPRESS_MS) return;
    lastAt = Date.now();
    signals++;
    const key = sig === 'SIGINT' ? 'Ctrl-C' : sig;
    const code = sig === 'SIGTERM' ? 143 : 130;
    if (signals === 1) h.first(key);
    else if (signals === 2) h.second(key, code);
    else process.exit(code);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
}
