import { strict as assert } from 'node:assert';
import type { SyncConfig } from '../../../../src/config/schema.js';
import { KafkaBus } from '../../../../src/pipeline/kafka/bus.js';
import { createKafka } from '../../../../src/pipeline/kafka/client.js';
import type { FlinkJobManager } from '../../../../src/pipeline/transform/flink/jobs.js';
import { isolatedConfig } from '../../../support/config.js';
import { dropEverything } from '../../../support/isolation.js';
import {
  collect, createTopics, ensureFlink, flinkScript, goodRecords, jobManager, passThroughJob, percentile, sendRaw, uniqueName, until,
  type Collected, type PassThroughTopics,
} from './support.js';

/** Sends good records at about `perSecond` until stopped; returns how many it sent. */
function stream(bus: KafkaBus, topic: string, prefix: string, perSecond: number): { stop: () => Promise<number> } {
  let sent = 0;
  let stopped = false;
  const batch = Math.max(1, Math.round(perSecond / 20));
  const loop = (async () => {
    while (!stopped) {
      await sendRaw(bus, topic, goodRecords(prefix, batch, sent));
      sent += batch;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return sent;
    },
  };
}

/** Kills the TaskManager JVM with SIGKILL and returns its pid. */
async function killTaskManager(): Promise<number> {
  const { status } = await flinkScript('status');
  const pid = status.items.find((i) => i.role === 'taskmanager')?.pid as number;
  assert.ok(pid, 'a TaskManager pid');
  process.kill(pid, 'SIGKILL');
  await until(() => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }, 10_000, `pid ${pid} to exit`);
  return pid;
}

/** Counts per key and the keys seen more than once. */
function tally(messages: Collected[]): { keys: number; duplicates: number } {
  const m = new Map<string, number>();
  for (const x of messages) m.set(x.key ?? '', (m.get(x.key ?? '') ?? 0) + 1);
  return { keys: m.size, duplicates: [...m.values()].reduce((a, n) => a + n - 1, 0) };
}

describe('Flink job recovery after a TaskManager kill -9', function () {
  this.timeout(300_000);
  let config: SyncConfig;
  let jobs: FlinkJobManager;
  let bus: KafkaBus;
  const started: string[] = [];
  const closers: KafkaBus[] = [];

  const topics = async (what: string): Promise<PassThroughTopics> => {
    const t = { source: `${config.kafka.topicPrefix}.${what}.raw`, sink: `${config.kafka.topicPrefix}.${what}.canonical`, dlq: `${config.kafka.topicPrefix}.${what}.dlq` };
    await createTopics(bus, [t.source, t.sink, t.dlq]);
    return t;
  };

  /** Runs a stream, kills the TM mid-way, restarts it, and returns what the sink received. */
  async function killDuringStream(t: PassThroughTopics, exactlyOnce: boolean): Promise<{ sent: number; messages: Collected[]; recoveredMs: number; jobId: string }> {
    const res = await jobs.start(passThroughJob(config, uniqueName(exactlyOnce ? 'eos' : 'alo'), t, { exactlyOnce, checkpointInterval: '1s' }));
    started.push(res.jobId);
    const sink = await collect(config, t.sink); // kafkajs reads committed records only (read_committed)
    closers.push(sink.bus);
    const s = stream(bus, t.source, 'rec', 200);
    await until(async () => (await jobs.checkpoints(res.jobId)).completed >= 2 && sink.messages.length > 200, 60_000, 'two checkpoints and output');
    const killedAt = Date.now();
    await killTaskManager();
    await flinkScript('up'); // starts a new TaskManager (the JobManager keeps the dead one until its heartbeat times out)
    await until(async () => (await jobs.checkpoints(res.jobId)).restored >= 1, 120_000, 'the job to restore from a checkpoint');
    await jobs.waitRunning(res.jobId, 120_000);
    const recoveredMs = Date.now() - killedAt;
    await new Promise((r) => setTimeout(r, 2_000));
    const sent = await s.stop();
    await sendRaw(bus, t.source, [{ key: 'end', value: JSON.stringify({ sku: 'end', qty: 0, sent_ms: Date.now() }) }]);
    await until(() => sink.messages.some((m) => m.key === 'END'), 60_000, 'the end marker');
    return { sent, messages: sink.messages.filter((m) => m.key !== 'END'), recoveredMs, jobId: res.jobId };
  }

  before(async () => {
    await ensureFlink();
    config = isolatedConfig('flink_recovery');
    jobs = jobManager();
    bus = new KafkaBus(createKafka(config.kafka));
  });
  afterEach(async () => {
    await flinkScript('up'); // a TaskManager for the next test even if this one failed half-way
    for (const id of started.splice(0)) await jobs.cancel(id).catch(() => undefined);
    await Promise.all(closers.splice(0).map((b) => b.close()));
  });
  after(async () => {
    await bus.close();
    await dropEverything(config);
  });

  it('with an at-least-once sink: recovers from the last checkpoint and loses nothing (records after it are written again)', async () => {
    const r = await killDuringStream(await topics('alo'), false);
    const { keys, duplicates } = tally(r.messages);
    assert.equal(keys, r.sent, 'no record lost');
    process.stderr.write(`      [measure] at-least-once: ${r.sent} sent, ${duplicates} duplicates, recovered ${r.recoveredMs} ms after the kill\n`);
    const h = await jobs.health(r.jobId);
    assert.ok(h.restarts >= 1);
    assert.ok(h.lastFailure, 'the TaskManager loss is recorded as the last failure');
  });

  it('with an exactly-once sink and a read_committed consumer: loses nothing and writes nothing twice', async () => {
    const r = await killDuringStream(await topics('eos'), true);
    const { keys, duplicates } = tally(r.messages);
    assert.equal(keys, r.sent, 'no record lost');
    assert.equal(duplicates, 0);
    const lat = r.messages.map((m) => m.receivedAt - (m.value as { sent_ms: number }).sent_ms);
    process.stderr.write(
      `      [measure] exactly-once (1 s checkpoints): ${r.sent} sent, 0 duplicates, recovered ${r.recoveredMs} ms after the kill; latency incl. the outage p50 ${percentile(lat, 50)} ms, p99 ${percentile(lat, 99)} ms\n`,
    );
  });
});
