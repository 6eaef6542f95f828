import { execa, type Result } from 'execa';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/syncctl.js', import.meta.url));

/** How Node prints a process warning on stderr: `(node:1234) [DEP0040] DeprecationWarning: ...`. */
export const NODE_WARNING = /\(node:\d+\) (\[\w+\] )?\w*Warning:/;

/**
 * Runs the real CLI (compiled, as users run it) and returns its outcome without throwing,
 * except when it printed a Node process warning (a defect: users see it in normal output).
 */
export async function runCli(args: string[], opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<Result & { json?: any }> {
  const res = await execa('node', [BIN, ...args], {
    reject: false,
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...opts.env, FORCE_COLOR: '0' },
    timeout: opts.timeoutMs ?? 60_000,
    stdin: 'ignore',
  });
  const warning = NODE_WARNING.exec(String(res.stderr ?? ''));
  if (warning) throw new Error(`syncctl ${args.join(' ')} printed a Node process warning: ${String(res.stderr).slice(warning.index).split('\n')[0]}`);
  let json: unknown;
  if (args.includes('--json')) {
    try {
      json = JSON.parse(String(res.stdout));
    } catch {
      json = undefined;
    }
  }
  return Object.assign(res, { json });
}

/** Env vars that point the CLI at a test config's database, schema, Kafka prefix and Redis prefix. */
export function cliEnv(config: { database: { url: string; schema: string }; kafka: { topicPrefix: string; brokers: string[] }; redis: { url: string; keyPrefix: string } }): Record<string, string> {
  return {
    SYNCCTL_DATABASE_URL: config.database.url,
    SYNCCTL_DATABASE__SCHEMA: config.database.schema,
    SYNCCTL_KAFKA_BROKERS: config.kafka.brokers.join(','),
    SYNCCTL_KAFKA__TOPIC_PREFIX: config.kafka.topicPrefix,
    SYNCCTL_REDIS_URL: config.redis.url,
    SYNCCTL_REDIS__KEY_PREFIX: config.redis.keyPrefix,
  };
}
