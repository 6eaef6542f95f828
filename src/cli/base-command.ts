import { Command, Flags, type Interfaces } from '@oclif/core';
import chalk from 'chalk';
import { configureLogger, LOG_LEVELS, type LogLevel } from '../core/logger.js';
import { BugError, ConfigError, SyncError } from '../core/errors.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { CommandResources } from './resources.js';

export type FlagsOf<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>;
export type ArgsOf<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

/** The stable JSON envelope every command prints with `--json`. */
export interface JsonEnvelope<R = unknown> {
  /** The exit code: 0 ok, 1 findings, 2 usage/config error, 3 runtime failure. */
  status: number;
  /** The command's result (null on error). */
  result: R | null;
  /** Warnings for the operator. */
  warnings: string[];
  /** On error: `{ name, code, message, hint }`. */
  error?: { name: string; code: string; message: string; hint?: string };
}

/**
 * Base of every syncctl command (Salesforce CLI style): `--json` with a stable envelope,
 * `--config`, `--log-level`, documented exit codes, friendly errors without stack traces
 * unless `--log-level debug`. Subclasses parse nothing themselves: `this.flags`/`this.args`.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true;

  /** Log level when neither `--log-level` nor (for daemons) the config says: quiet for one-shot commands. */
  static defaultLogLevel: LogLevel = 'warn';
  /** Whether `logging.level` of the config applies (long-running commands). */
  static logLevelFromConfig = false;

  static override baseFlags = {
    config: Flags.string({
      char: 'c',
      description: 'Config file (YAML/JSON/JS); default: syncctl.config.yml, .syncctlrc... in the current directory, else built-in defaults.',
      env: 'SYNCCTL_CONFIG',
      helpGroup: 'GLOBAL',
    }),
    'log-level': Flags.option({
      description: 'Log level of the JSON logs written to stderr.',
      options: LOG_LEVELS,
      env: 'SYNCCTL_LOG_LEVEL',
      helpGroup: 'GLOBAL',
    })(),
  };

  protected flags!: FlagsOf<T>;
  protected args!: ArgsOf<T>;
  /** Warnings collected for the envelope (and printed to stderr without --json). */
  protected readonly warnings: string[] = [];
  private loaded?: LoadedConfig;
  private res?: CommandResources;
  private readonly cleanups: Array<() => Promise<void> | void> = [];

  public override async init(): Promise<void> {
    await super.init();
    const { args, flags } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    this.flags = flags as FlagsOf<T>;
    this.args = args as ArgsOf<T>;
    const ctor = this.ctor as unknown as typeof BaseCommand;
    configureLogger({ level: (this.flags['log-level'] as LogLevel | undefined) ?? ctor.defaultLogLevel });
  }

  /** Loads and validates the configuration once (file from --config, env overrides). */
  protected async loadConfig(): Promise<LoadedConfig> {
    if (this.loaded) return this.loaded;
    this.loaded = await loadConfig({ file: this.flags.config as string | undefined });
    const ctor = this.ctor as unknown as typeof BaseCommand;
    const flagLevel = this.flags['log-level'] as LogLevel | undefined;
    configureLogger({
      level: flagLevel ?? (ctor.logLevelFromConfig ? this.loaded.config.logging.level : ctor.defaultLogLevel),
      components: flagLevel ? {} : this.loaded.config.logging.components,
    });
    return this.loaded;
  }

  /** Connections to PostgreSQL and Kafka for this command (opened on first use, closed at the end). */
  protected async resources(): Promise<CommandResources> {
    if (!this.res) {
      const { config } = await this.loadConfig();
      this.res = new CommandResources(config);
      const res = this.res;
      this.onCleanup(() => res.close());
    }
    return this.res;
  }

  /** Registers work to do when the command ends, whatever the outcome (close pools, clients). */
  protected onCleanup(fn: () => Promise<void> | void): void {
    this.cleanups.push(fn);
  }

  /** Records a warning for the operator. */
  protected warnUser(message: string): void {
    this.warnings.push(message);
    if (!this.jsonEnabled()) process.stderr.write(`${chalk.yellow('Warning:')} ${message}\n`);
  }

  /** Marks the run as having findings (exit code 1: drift, unhealthy, open problems). */
  protected setFindings(): void {
    if (!process.exitCode) process.exitCode = EXIT.FINDINGS;
  }

  /** Resolves on the first SIGINT/SIGTERM; a second signal exits at once (two-stage shutdown). */
  protected waitForShutdown(): Promise<NodeJS.Signals> {
    return new Promise((resolve) => {
      const onSignal = (sig: NodeJS.Signals) => {
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
        const force = () => {
          process.stderr.write(`Second signal: forcing exit.\n`);
          process.exit(EXIT.RUNTIME);
        };
        process.once('SIGINT', force);
        process.once('SIGTERM', force);
        resolve(sig);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
  }

  protected override toSuccessJson(result: unknown): JsonEnvelope {
    return { status: Number(process.exitCode ?? 0), result: result ?? null, warnings: this.warnings };
  }

  protected override toErrorJson(err: unknown): JsonEnvelope {
    const e = err as SyncError;
    return {
      status: Number(process.exitCode ?? EXIT.RUNTIME),
      result: null,
      warnings: this.warnings,
      error: { name: e?.name ?? 'Error', code: e?.code ?? 'UNKNOWN', message: e?.message ?? String(err), hint: e?.hint },
    };
  }

  public override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<void> {
    const code = exitCodeFor(err);
    process.exitCode = code;
    if (this.jsonEnabled()) {
      this.logJson(this.toErrorJson(normalise(err, code)));
      return;
    }
    const debug = this.flags?.['log-level'] === 'debug' || this.flags?.['log-level'] === 'trace';
    const e = normalise(err, code);
    process.stderr.write(`${chalk.red('Error')} ${chalk.dim(`[${e.code}]`)} ${e.message}\n`);
    if (e.hint) process.stderr.write(`${chalk.dim('Hint:')} ${e.hint}\n`);
    if (debug || e instanceof BugError) process.stderr.write(`${err.stack ?? ''}\n`);
    else if (code === EXIT.RUNTIME && !(err instanceof SyncError)) process.stderr.write(chalk.dim('Run with --log-level debug for the stack trace.\n'));
  }

  public override async finally(err: Error | undefined): Promise<void> {
    for (const fn of this.cleanups.reverse()) {
      try {
        await fn();
      } catch {
        // cleanup must never hide the command's own outcome
      }
    }
    await super.finally(err);
  }
}

/** Wraps oclif/parse errors into a SyncError with a code, so output is uniform. */
function normalise(err: Error & { oclif?: { exit?: number } }, code: number): SyncError {
  if (err instanceof SyncError) return err;
  if (code === EXIT.USAGE) return new ConfigError('USAGE', err.message.split('\n')[0] ?? err.message, { cause: err, hint: 'See --help.' });
  return new BugError(err.message || String(err), { cause: err });
}
