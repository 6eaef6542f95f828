import { BugError, ConfigError, SyncError } from '../core/errors.js';

/** Exit codes of every syncctl command (documented in the README). */
export const EXIT = {
  /** Success, nothing to report. */
  OK: 0,
  /** Ran fine, found something: drift (`diff`), unhealthy (`status`), not converged (`demo`). */
  FINDINGS: 1,
  /** Usage or configuration error: fix the command line or the config. */
  USAGE: 2,
  /** Runtime failure: a service is unreachable, a platform failed, or a bug. */
  RUNTIME: 3,
} as const;

/** Maps a thrown value to an exit code. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof ConfigError) return EXIT.USAGE;
  if (err instanceof BugError) return EXIT.RUNTIME;
  if (err instanceof SyncError) return EXIT.RUNTIME;
  const e = err as { oclif?: { exit?: number }; exitCode?: number; code?: string };
  // oclif parse errors (unknown flag, missing arg, bad option) carry exit 2.
  if (e?.oclif?.exit === 2 || e?.code === 'EEXIT' && e.oclif?.exit === 2) return EXIT.USAGE;
  if (e?.oclif?.exit !== undefined && e.oclif.exit !== 1) return e.oclif.exit;
  if (typeof e?.code === 'string' && /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET)$/.test(e.code)) return EXIT.RUNTIME;
  // Other oclif CLI errors (non-existent command, flag validation) are usage errors.
  if ((err as Error)?.constructor?.name?.endsWith('CLIError') || (err as Error)?.name === 'CLIError') return EXIT.USAGE;
  return EXIT.RUNTIME;
}
