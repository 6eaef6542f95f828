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
  '*.password', '*.token', '*.accessToken', '*.secret', '*.consumerSecret', '*.webhookSecret', '*.apiSecret',
  'headers.authorization', 'headers["x-shopify-access-token"]',
];

let root: Logger = pino({ level: 'info', redact: REDACT, base: { app: 'syncctl' } }, pino.destination(2));
let componentLevels: Record<string, LogLevel> = {};

/** Replaces the root logger (called once by the CLI after reading config and flags). */
export function configureLogger(opts: LoggerOptions): Logger {
  componentLevels = opts.components ?? {};
  root = pino(
    { level: opts.level as LevelWithSilent, redact: REDACT, base: { app: 'syncctl' } },
    (opts.destination as pino.DestinationStream | undefined) ?? pino.destination(2),
  );
  return root;
}

/** A child logger for one component (`kafka`, `intake`, `engine`...), honouring per-component levels. */
export function getLogger(component: string): Logger {
  const child = root.child({ component });
  const lvl = componentLevels[component];
  if (lvl) child.level = lvl;
  return child;
}
