// Mocha global fixtures: make sure the real services the tests need are up (PostgreSQL,
// Redis, Kafka), starting them with the project's own stack scripts when they are not.
// What the run started is stopped at the end unless SYNCCTL_TEST_KEEP_STACK=1.
import { configSchema } from '../../src/config/schema.js';
import { stackDown, stackStatus, stackUp } from '../../src/stack/manager.js';
import { testBaseConfig } from './config.js';
import { configureLogger, type LogLevel } from '../../src/core/logger.js';
import { patchKafkaRequestQueue } from '../../src/pipeline/kafka/request-queue.js';

// Components log to stderr; in tests only errors, unless asked (SYNCCTL_TEST_LOG_LEVEL=debug).
// Set through the environment too: test files may load their own instance of the logger module.
process.env.SYNCCTL_DEFAULT_LOG_LEVEL = process.env.SYNCCTL_TEST_LOG_LEVEL ?? 'error';
configureLogger({ level: (process.env.SYNCCTL_TEST_LOG_LEVEL as LogLevel | undefined) ?? 'error' });

// Test helpers build kafkajs clients of their own too (topic cleanup, readers): the same fix as
// createKafka's, so that Node 24 prints no TimeoutNegativeWarning in the test output.
patchKafkaRequestQueue();

let startedKafka = false;

// A Node process warning (MaxListenersExceededWarning, a DeprecationWarning...) emitted by the
// code under test fails the test that runs when it is emitted: thrown from the listener, it
// reaches mocha as an uncaught exception of the current test. Users see these warnings in the
// middle of normal output; they are defects.
process.on('warning', (w) => {
  const err = new Error(`Node process warning emitted by the code under test: ${w.name}: ${w.message}`);
  err.stack = `${err.message}\n${(w.stack ?? '').split('\n').slice(1).join('\n')}`;
  throw err;
});

export async function mochaGlobalSetup(): Promise<void> {
  const config = configSchema.parse(testBaseConfig());
  const before = await stackStatus(config);
  const kafkaBefore = before.find((c) => c.component === 'kafka');
  const t0 = Date.now();
  await stackUp(config);
  startedKafka = !kafkaBefore?.ready;
  if (startedKafka) process.stderr.write(`[test] started the local stack in ${Date.now() - t0} ms\n`);
}

export async function mochaGlobalTeardown(): Promise<void> {
  if (!startedKafka || process.env.SYNCCTL_TEST_KEEP_STACK === '1') return;
  const config = configSchema.parse(testBaseConfig());
  await stackDown(config, { connect: true, flink: true });
}
