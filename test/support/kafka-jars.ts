import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { configSchema } from '../../src/config/schema.js';
import { stackDir } from '../../src/stack/paths.js';
import { testBaseConfig } from './config.js';
import { REPO_ROOT } from './cli.js';

/**
 * Gives a private stack directory the pinned Kafka jars of the test run's stack, without a second
 * download: `kafka.sh fetch` in the shared stack directory (a no-op once they are there; jars live
 * in `kafka/<version>/jars`, so a shared broker started from an older pin does not matter), then a
 * link to that version's folder.
 */
export async function linkSharedKafkaJars(privateStackDir: string): Promise<void> {
  const shared = stackDir(configSchema.parse(testBaseConfig()).stack.dir);
  await promisify(execFile)('bash', [join(REPO_ROOT, 'scripts', 'stack', 'kafka.sh'), 'fetch'], { env: { ...process.env, STACK_DIR: shared }, timeout: 600_000 });
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(join(REPO_ROOT, 'scripts', 'stack', 'kafka', 'pom.xml'), 'utf8'))![1]!;
  mkdirSync(join(privateStackDir, 'kafka'), { recursive: true });
  symlinkSync(join(shared, 'kafka', version), join(privateStackDir, 'kafka', version));
}
