// The real `syncctl start` as a child process (compiled CLI, `npm run build` first): start it,
// wait until it listens, SIGKILL/SIGTERM it, read its readiness, keep its stderr for failures.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../../support/cli.js';

const BIN = fileURLToPath(new URL('../../../bin/syncctl.js', import.meta.url));

/** One running `syncctl start`. */
export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The public (webhook) listener, `http://127.0.0.1:<port>`, once listening. */
  readonly url: string;
  /** The admin listener (`/metrics`, `/healthz`, `/readyz`, `/alerts`). */
  readonly adminUrl: string;
  /** Everything it wrote on stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * Spawns `syncctl start --config <file>` and resolves once it prints its listening line
 * (rejects with its stderr when it exits first or does not listen within `timeoutMs`).
 */
export async function startDaemonProcess(configPath: string, opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<DaemonProcess> {
  // TEST_DAEMON_NODE_ARGS: extra node flags for the daemon (e.g. `--cpu-prof --cpu-prof-dir=...`).
  const nodeArgs = process.env.TEST_DAEMON_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.TEST_DAEMON_NODE_ARGS;
  // The variables that point the test run at its services (a stack of its own, test/support/config.ts)
  // are in the config file already; inherited, they would override what the file says (a test's own broker).
  for (const k of Object.keys(env)) if (k === 'SYNCCTL_KAFKA_BROKERS' || k === 'SYNCCTL_REDIS_URL' || k.startsWith('SYNCCTL_STACK__')) delete env[k];
  const child = spawn(process.execPath, [...nodeArgs, BIN, 'start', '--config', configPath], {
    cwd: REPO_ROOT,
    env: { ...env, FORCE_COLOR: '0', ...opts.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    err += d;
    if (err.length > 2_000_000) err = err.slice(-1_000_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const urls = await new Promise<{ url: string; adminUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`syncctl start did not listen within ${opts.timeoutMs ?? 30_000} ms:\n${err.slice(-4000)}`));
    }, opts.timeoutMs ?? 30_000);
    const onData = () => {
      const m = /syncctl daemon listening on (\S+) \(webhooks\), admin on (\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        child.stderr!.off('data', onData);
        resolve({ url: m[1]!, adminUrl: m[2]! });
      }
    };
    child.stderr!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`syncctl start exited (${code ?? signal}) before listening:\n${err.slice(-4000)}`));
    });
  });
  return {
    child,
    pid: child.pid!,
    ...urls,
    stderr: () => err,
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** GET a daemon endpoint (of its admin listener) as {status, body}; status 0 when it does not answer. */
export async function probe(url: string, path: '/healthz' | '/readyz'): Promise<{ status: number; body: any }> {
  try {
    const r = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(5000) });
    return { status: r.status, body: await r.json().catch(() => null) };
  } catch {
    return { status: 0, body: null };
  }
}

/** Kills a daemon at once and waits for it to be gone. */
export async function killNow(d: DaemonProcess): Promise<void> {
  d.kill('SIGKILL');
  await d.exited;
}

/**
 * An `afterEach` hook for files that run the real daemon: when a test failed, prints the tail of
 * the daemon's stderr (the reason is usually there) and calls `onFailure` (e.g. to keep the rig's
 * schema for inspection).
 */
export function reportDaemonOnFailure(daemon: () => DaemonProcess | undefined, onFailure: () => void): (this: Mocha.Context) => void {
  return function (this: Mocha.Context) {
    if (this.currentTest?.state !== 'failed') return;
    onFailure();
    const d = daemon();
    if (d) process.stderr.write(`[test] daemon stderr (tail):\n${d.stderr().slice(-6000)}\n`);
  };
}
