import { Listr, ProcessOutput } from 'listr2';

/** Progress of one phase of a long command. */
export interface PhaseUpdate {
  phase: string;
  records: number;
  total: number | null;
  done: boolean;
}

/**
 * Progress of a multi-phase command on stderr: listr2 tasks (count, rate, ETA) on a TTY, a plain
 * line every few seconds and at the end of each phase otherwise, nothing when `quiet` (--json).
 */
export class PhaseProgress {
  private readonly started = new Map<string, number>();
  private readonly waiters = new Map<string, { resolve: () => void; reject: (e: unknown) => void; setTitle: (t: string) => void }>();
  private readonly done = new Set<string>();
  private listr?: Promise<unknown>;
  private lastLine = 0;

  constructor(private readonly phases: string[], private readonly mode: 'tty' | 'plain' | 'quiet') {
    if (mode !== 'tty') return;
    const list = new Listr(
      phases.map((phase) => ({
        title: `${phase}: waiting`,
        task: (_: unknown, task: { title: string }) =>
          new Promise<void>((resolve, reject) => {
            this.waiters.set(phase, { resolve, reject, setTitle: (t) => (task.title = t) });
            if (this.done.has(phase)) resolve();
          }),
      })),
      { concurrent: true, exitOnError: false, registerSignalListeners: false, rendererOptions: { processOutput: new ProcessOutput(process.stderr, process.stderr) } as never },
    );
    this.listr = list.run().catch(() => undefined);
  }

  /** Chooses the mode: quiet with --json, listr2 on a TTY, plain lines otherwise. */
  static for(phases: string[], json: boolean): PhaseProgress {
    return new PhaseProgress(phases, json ? 'quiet' : process.stderr.isTTY ? 'tty' : 'plain');
  }

  /** Reports a phase's progress. */
  update(u: PhaseUpdate): void {
    if (this.mode === 'quiet') return;
    if (!this.started.has(u.phase)) this.started.set(u.phase, Date.now());
    const line = this.describe(u);
    if (this.mode === 'tty') {
      const w = this.waiters.get(u.phase);
      w?.setTitle(line);
      if (u.done) {
        this.done.add(u.phase);
        w?.resolve();
      }
    } else if (u.done || Date.now() - this.lastLine > 2000) {
      this.lastLine = Date.now();
      process.stderr.write(`${line}\n`);
    }
  }

  /** Ends the display (phases never reached are marked skipped). */
  async finish(): Promise<void> {
    if (this.mode !== 'tty') return;
    for (const phase of this.phases) {
      if (this.done.has(phase)) continue;
      this.done.add(phase);
      const w = this.waiters.get(phase);
      w?.setTitle(`${phase}: not reached`);
      w?.resolve();
    }
    await this.listr;
  }

  private describe(u: PhaseUpdate): string {
    const seconds = Math.max(0.001, (Date.now() - this.started.get(u.phase)!) / 1000);
    const rate = u.records / seconds;
    const count = u.total !== null ? `${u.records}/${u.total}` : String(u.records);
    const eta = !u.done && u.total !== null && rate > 0 ? `, ETA ${Math.max(0, Math.round((u.total - u.records) / rate))} s` : '';
    return `${u.phase}: ${count} read, ${Math.round(rate)}/s${eta}${u.done ? `, done in ${seconds.toFixed(1)} s` : ''}`;
  }
}
