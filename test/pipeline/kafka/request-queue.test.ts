import { strict as assert } from 'node:assert';
import { execa } from 'execa';
import { REPO_ROOT } from '../../support/cli.js';
import { testBaseConfig } from '../../support/config.js';

// In a process of its own: Node prints a warning once per process, so one printed by another
// test file (or a client built without createKafka) would hide or fake the outcome here.
const SCRIPT = `
import { configSchema } from './src/config/schema.ts';
import { createKafka } from './src/pipeline/kafka/client.ts';
const config = configSchema.parse({ kafka: { brokers: process.env.BROKERS.split(',') } });
const admin = createKafka(config.kafka).admin();
await admin.connect();
for (let i = 0; i < 5; i++) await admin.listTopics();
await new Promise((r) => setTimeout(r, 200)); // unpatched, the idle queue's 1 ms timer runs meanwhile
await admin.disconnect();
`;

describe('kafkajs request queue (patched by createKafka)', () => {
  it('answers requests on Node 24 without a TimeoutNegativeWarning (tulios/kafkajs#1751)', async () => {
    const brokers = (testBaseConfig().kafka?.brokers ?? []).join(',');
    const r = await execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], {
      cwd: REPO_ROOT, env: { BROKERS: brokers, SYNCCTL_DEFAULT_LOG_LEVEL: 'error' }, reject: false, stdin: 'ignore', timeout: 60_000,
    });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /TimeoutNegativeWarning|Warning:/);
  });
});
