import pino, { type Logger, type LevelWithSilent } from 'pino';

/** The structured logger type used everywhere (pino). */
export type { Logger };

/** Log levels accepted by `--log-level` and `logging.level`. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Options of the root logger. */
export interface LoggerOptions {
  /** Default level of every component. */
  level: LogLevel;
  /** Per-component overrides, e.g. `{ kafka: 'warn' }`. */
  components?: Record<string, LogLevel>;
  /** Where JSON lines go; stderr by default so stdout stays for results. */
  destination?: NodeJS.WritableStream;
}

const REDACT = [
  '*.password', '*.token', '*.accessToken', '*.access_token', '*.secret', '*.clientSecret', '*.client_secret', '*.consumerSecret', '*.webhookSecret', '*.apiSecret',
  'headers.authorization', 'headers["x-shopify-access-token"]',
];

/** Until configureLogger runs: `SYNCCTL_DEFAULT_LOG_LEVEL` (the test harness sets `error`), else info. */
const initialLevel = (LOG_LEVELS as readonly string[]).includes(process.env.SYNCCTL_DEFAULT_LOG_LEVEL ?? '') ? (process.env.SYNCCTL_DEFAULT_LOG_LEVEL as LogLevel) : 'info';
let root: Logger = pino({ level: initialLevel, redact: REDACT, base: { app: 'syncctl' } }, pino.destination(2));
let componentLevels: Record<string, LogLevel> = {};
/** Bumped by configureLogger, so loggers created earlier (module level) follow the new settings. */
let generation = 0;

/** Replaces the root logger (called once by the CLI after reading config and flags). */
export function configureLogger(opts: LoggerOptions): Logger {
  componentLevels = opts.components ?? {};
  generation++;
  root = pino(
    { level: opts.level as LevelWithSilent, redact: REDACT, base: { app: 'syncctl' } },
    (opts.destination as pino.DestinationStream | undefined) ?? pino.destination(2),
  );
  return root;
}

/** A child logger for one component (`kafka`, `intake`, `engine`...), honouring per-component levels. */
export function getLogger(component: string): Logger {
  let current: Logger | undefined;
  let seen = -1;
  const resolve = (): Logger => {
    if (seen !== generation || !current) {
      current = root.child({ component });
      const lvl = componentLevels[component];
      if (lvl) current.level = lvl;
      seen = generation;
    }
    return current;
  };
  // A handle that always logs through the current configuration, even when it was created at
  // module load, before the CLI read --log-level and the config.
  return new Proxy({} as Logger, {
    get(_t, prop) {
      const l = resolve();
      const v = (l as unknown as Record<string | symbol, unknown>)[prop];
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(l) : v;
    },
    set(_t, prop, value) {
      (resolve() as unknown as Record<string | symbol, unknown>)[prop] = value;
      return true;
    },
  });
}
