import { cosmiconfig } from 'cosmiconfig';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { configSchema, type SyncConfig } from './schema.js';

/** Prefix of environment variables that override config keys. */
export const ENV_PREFIX = 'SYNCCTL_';

/** One problem found in a configuration, with the key path it concerns. */
export interface ConfigIssue {
  /** Dotted key path, e.g. `sources.shopify.main.accessToken`. */
  path: string;
  /** What is wrong. */
  message: string;
  /** Where the value came from: the file, an env variable, or the defaults. */
  origin?: string;
}

/** The result of loading: the validated config and where it came from. */
export interface LoadedConfig {
  config: SyncConfig;
  /** The file read, or null when running on defaults only. */
  filepath: string | null;
  /** Environment variables that overrode keys, name → key path. */
  envOverrides: Record<string, string>;
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Explicit file (`--config`); otherwise cosmiconfig searches from `cwd`. */
  file?: string;
  /** Directory to search from. */
  cwd?: string;
  /** Environment to read overrides from (process.env by default). */
  env?: NodeJS.ProcessEnv;
}

const MODULE = 'syncctl';
const explorer = () =>
  cosmiconfig(MODULE, {
    searchPlaces: [
      'syncctl.config.yml',
      'syncctl.config.yaml',
      'syncctl.config.json',
      'syncctl.config.js',
      'syncctl.config.mjs',
      '.syncctlrc',
      '.syncctlrc.yml',
      '.syncctlrc.yaml',
      '.syncctlrc.json',
    ],
    searchStrategy: 'none',
  });

/** Reads, merges (file < env) and validates the configuration. Throws ConfigError listing every issue. */
export async function loadConfig(opts: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env[`${ENV_PREFIX}CONFIG`];
  let raw: unknown = {};
  let filepath: string | null = null;
  try {
    if (file) {
      const p = resolve(opts.cwd ?? process.cwd(), file);
      if (!existsSync(p)) {
        throw new ConfigError('CONFIG_NOT_FOUND', `Config file ${p} does not exist.`, {
          hint: 'Pass an existing file with --config, or run without it to use the defaults.',
        });
      }
      const res = await explorer().load(p);
      raw = res?.config ?? {};
      filepath = p;
    } else {
      const res = await explorer().search(opts.cwd ?? process.cwd());
      if (res && !res.isEmpty) {
        raw = res.config;
        filepath = res.filepath;
      }
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError('CONFIG_UNREADABLE', `Cannot read config ${file ?? ''}: ${(err as Error).message}`.replace('  ', ' '), {
      cause: err,
      hint: 'Check the file is valid YAML or JSON and readable.',
    });
  }
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError('CONFIG_INVALID', `Config ${filepath}: the top level must be a mapping of keys.`);
  }
  mergeLoggingFile(raw as Record<string, unknown>, filepath);
  const envOverrides: Record<string, string> = {};
  const merged = applyEnvOverrides(structuredClone(raw) as Record<string, unknown>, env, envOverrides);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const issues = toIssues(parsed.error, envOverrides, filepath);
    throw new ConfigError('CONFIG_INVALID', formatIssues(issues), {
      details: { issues },
      hint: 'Fix the keys above (see config/config.example.yml), or run `syncctl config validate` to list every problem.',
    });
  }
  return { config: parsed.data, filepath, envOverrides };
}

/** Merges `logging.file` (levels per component) under the keys written in the config itself. */
function mergeLoggingFile(raw: Record<string, unknown>, filepath: string | null): void {
  const logging = raw.logging as { file?: unknown; components?: Record<string, unknown> } | undefined;
  if (!logging || typeof logging.file !== 'string') return;
  const p = resolve(filepath ? dirname(filepath) : process.cwd(), logging.file);
  let data: { level?: unknown; components?: Record<string, unknown> };
  try {
    data = (parseYaml(readFileSync(p, 'utf8')) ?? {}) as typeof data;
  } catch (err) {
    throw new ConfigError('CONFIG_UNREADABLE', `logging.file: cannot read ${p}: ${(err as Error).message}`, { cause: err });
  }
  raw.logging = { level: data.level, ...logging, components: { ...data.components, ...logging.components } };
}

/** Turns zod issues into key-path issues, naming the env variable a bad value came from. */
export function toIssues(error: z.ZodError, envOverrides: Record<string, string>, filepath: string | null): ConfigIssue[] {
  const byPath = Object.fromEntries(Object.entries(envOverrides).map(([k, v]) => [v, k]));
  return error.issues.map((i) => {
    let path = i.path.map(String).join('.');
    let message = i.message;
    if (i.code === 'unrecognized_keys') {
      const keys = (i as { keys: string[] }).keys;
      path = [path, keys[0]].filter(Boolean).join('.');
      message = `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}`;
    }
    const env = Object.keys(byPath).find((k) => path === k || path.startsWith(k + '.'));
    return { path: path || '(root)', message, origin: env ? `env ${byPath[env]}` : filepath ?? 'defaults' };
  });
}

/** One line per issue, for the error message. */
export function formatIssues(issues: ConfigIssue[]): string {
  const lines = issues.map((i) => `  - ${i.path}: ${i.message}${i.origin ? ` (from ${i.origin})` : ''}`);
  return `Invalid configuration:\n${lines.join('\n')}`;
}

/**
 * Applies `SYNCCTL_A__B__C=value` overrides: `__` separates levels, each level is matched
 * to an existing key case-insensitively ignoring `_`/`-`, else turned into camelCase.
 * Single-level names also accept `_` between a section and its key for the well-known
 * variables (`SYNCCTL_DATABASE_URL`, `SYNCCTL_KAFKA_BROKERS`, `SYNCCTL_REDIS_URL`).
 */
export function applyEnvOverrides(
  target: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  record: Record<string, string> = {},
): Record<string, unknown> {
  const defaults = configSchema.parse({}) as unknown as Record<string, unknown>;
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined || name === `${ENV_PREFIX}CONFIG`) continue;
    const rest = name.slice(ENV_PREFIX.length);
    const segments = rest.includes('__') ? rest.split('__') : splitSection(rest, defaults);
    if (!segments) continue;
    let obj = target;
    let shape: unknown = defaults;
    const path: string[] = [];
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!;
      const key = matchKey(seg, obj, shape);
      path.push(key);
      if (i === segments.length - 1) {
        const current = obj[key] ?? (shape as Record<string, unknown> | undefined)?.[key];
        obj[key] = coerce(value, current);
      } else {
        if (typeof obj[key] !== 'object' || obj[key] === null) obj[key] = {};
        obj = obj[key] as Record<string, unknown>;
        shape = (shape as Record<string, unknown> | undefined)?.[key];
      }
    }
    record[name] = path.join('.');
  }
  return target;
}

function splitSection(rest: string, defaults: Record<string, unknown>): string[] | null {
  const idx = rest.indexOf('_');
  if (idx < 0) return null;
  const section = rest.slice(0, idx).toLowerCase();
  if (!(section in defaults)) return null;
  return [section, rest.slice(idx + 1)];
}

const norm = (s: string) => s.replace(/[_-]/g, '').toLowerCase();
const camel = (s: string) => s.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function matchKey(seg: string, obj: Record<string, unknown>, shape: unknown): string {
  const candidates = [...Object.keys(obj), ...(shape && typeof shape === 'object' ? Object.keys(shape) : [])];
  return candidates.find((k) => norm(k) === norm(seg)) ?? camel(seg);
}

function coerce(value: string, current: unknown): unknown {
  if (Array.isArray(current)) return value.split(',').map((s) => s.trim()).filter(Boolean);
  if (typeof current === 'number') return value.trim() === '' ? value : Number(value);
  if (typeof current === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  return value;
}
