import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { execa } from 'execa';
import { REPO_ROOT } from './cli.js';

/** Removes terminal control sequences (colours, cursor moves) and carriage returns. */
export const stripAnsi = (s: string): string =>
  // eslint-disable-next-line no-control-regex
  s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\x1b\][^\x07]*\x07/g, '').replace(/\r/g, '');

/**
 * A command run in a real pseudo-terminal (`script` from util-linux: Debian's essential bsdutils), typed
 * at as a person does: keystrokes go through the terminal's line discipline, so Ctrl-C is a
 * SIGINT to the terminal's whole foreground process group, and closing the terminal hangs up its
 * session. `output` is everything the terminal was sent (what a person saw, overwritten lines
 * included).
 */
export class Pty {
  private raw = '';
  readonly exited: Promise<void>;
  private constructor(private readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => (this.raw += d.toString('utf8')));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /**
   * Runs `command` with /bin/sh in a 120×40 terminal. The shell traps SIGINT (as an interactive
   * shell does) so that it outlives a Ctrl-C and can print the command's exit status.
   */
  static start(command: string, opts: { env?: Record<string, string>; cwd?: string } = {}): Pty {
    const child = spawn('script', ['-q', '-f', '-c', `stty cols 120 rows 40; trap : INT; ${command}`, '/dev/null'], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: { ...process.env, SHELL: '/bin/sh', TERM: 'xterm-256color', npm_config_update_notifier: 'false', ...opts.env },
      stdio: ['pipe', 'pipe', 'ignore'], // script's own notices ("Session terminated") are not the command's
    });
    return new Pty(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** What the terminal showed, without control sequences. */
  get output(): string {
    return stripAnsi(this.raw);
  }

  /** Waits until the terminal showed text matching `re` (fails at once when the terminal's command ended without it). */
  async waitFor(re: RegExp, what: string, ms: number): Promise<RegExpMatchArray> {
    const end = Date.now() + ms;
    for (;;) {
      const m = this.output.match(re);
      if (m) return m;
      const why = this.child.exitCode !== null || this.child.signalCode !== null ? 'the terminal\'s command ended' : Date.now() > end ? `not within ${ms} ms` : undefined;
      if (why) throw new Error(`${what}: ${why}\n--- terminal ---\n${this.output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Types keys (Ctrl-C is "\x03"). */
  type(keys: string): void {
    this.child.stdin!.write(keys);
  }

  /** Closes the terminal, as closing its window does (its session is hung up). */
  async close(): Promise<void> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Pids (with command lines) of the processes whose command line contains `marker`, except the caller's `pgrep`. */
export async function processesWith(marker: string): Promise<string[]> {
  const r = await execa('pgrep', ['-af', marker], { reject: false });
  return String(r.stdout).split('\n').filter((l) => l.trim() && !/\bpgrep\b/.test(l));
}

/** Makes sure `script` (util-linux) is there: the terminal tests need it. */
export async function assertScriptAvailable(): Promise<void> {
  const r = await execa('script', ['--version'], { reject: false });
  if (r.exitCode !== 0) throw new Error("`script` (util-linux, in Debian's essential bsdutils package) is required by the terminal tests: apt-get install bsdutils");
}
