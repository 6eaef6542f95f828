import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { startMonitoring, stopProcess } from './support/processes.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWooCommerceSimulator, type WooCommerceSimulator } from '../../src/simulators/woocommerce/index.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { buildConnectorSet } from '../../src/daemon/registry.js';
import { configSchema, type SyncConfig } from '../../src/config/schema.js';
import { initDb } from '../../src/services/init-db.js';
import { isolatedConfig } from '../support/config.js';
import { dropEverything } from '../support/isolation.js';
import { freePort } from '../support/ports.js';
import { installMonitoringTools, waitFor } from './support/monitoring-files.js';

const SKU = 'SKU-000001-1';

/**
 * The whole chain with nothing stood in: a running syncctl daemon syncing two WooCommerce
 * simulators, real Prometheus scraping its /metrics with the real rules (`for:` shortened),
 * real Alertmanager routing to the daemon's own /alerts. The fault: the second site's API key
 * is read-only, so every write the daemon makes there is refused and dead-lettered.
 */
/** The daemon's admin token (Prometheus and Alertmanager send it). */
const ADMIN_TOKEN = 'daemon-alerts-admin-token';

describe('Alerting end to end: a running daemon → Prometheus → Alertmanager', function () {
  this.timeout(180_000);
  const procs: ChildProcess[] = [];
  let dir: string;
  let a: WooCommerceSimulator;
  let b: WooCommerceSimulator;
  let config: SyncConfig;
  let daemon: Daemon;
  let promUrl: string;
  let amUrl: string;
  let traffic: NodeJS.Timeout | undefined;

  before(async function () {
    this.timeout(600_000);
    await installMonitoringTools();
    a = await startWooCommerceSimulator({ products: 2, seed: 1, coalesceWindowMs: 50 });
    b = await startWooCommerceSimulator({ products: 2, seed: 2, coalesceWindowMs: 50, keyPermissions: 'read' });
    const woo = (sim: WooCommerceSimulator) => ({ url: sim.info.siteUrl, consumerKey: sim.info.consumerKey, consumerSecret: sim.info.consumerSecret, webhookSecret: 'alerts-secret', pollIntervalSeconds: 1 });
    const base = isolatedConfig('daemon_alerts');
    const daemonPort = await freePort();
    config = configSchema.parse({
      ...base,
      http: { public: { host: '127.0.0.1', port: await freePort() }, admin: { port: daemonPort, token: ADMIN_TOKEN } },
      sources: { woocommerce: { a: woo(a), b: woo(b) } },
      sync: { authority: 'woocommerce:a', driftCheck: { enabled: false } },
      retry: { retries: 2, initialDelayMs: 50, maxDelayMs: 200 },
      daemon: { settleSeconds: 0, drainTimeoutSeconds: 10 },
      monitoring: { metricsHistory: { enabled: false } },
    });
    await initDb(config);
    daemon = new Daemon(config, buildConnectorSet);
    await daemon.start();

    dir = mkdtempSync(join(tmpdir(), 'syncctl-alerts-'));
    const [promPort, amPort] = [await freePort(), await freePort()];
    promUrl = `http://127.0.0.1:${promPort}`;
    amUrl = `http://127.0.0.1:${amPort}`;
    procs.push(...(await startMonitoring({ dir, daemonPort, promPort, amPort, alertFor: '2s', token: ADMIN_TOKEN })));
  });

  after(async () => {
    clearInterval(traffic);
    for (const p of procs) await stopProcess(p);
    await daemon?.stop();
    await a?.close();
    await b?.close();
    if (config) await dropEverything(config);
    if (dir && process.env.SYNCCTL_TEST_KEEP_MONITORING !== "1") rmSync(dir, { recursive: true, force: true });
    else if (dir) process.stderr.write(`kept ${dir}\n`);
  });

  it('scrapes the running daemon', async () => {
    await waitFor('up{job="syncctl"} == 1', async () => {
      const r = (await (await fetch(`${promUrl}/api/v1/query?query=up`)).json()) as { data: { result: Array<{ value: [number, string] }> } };
      return r.data.result[0]?.value[1] === '1' ? true : undefined;
    }, 30_000);
  });

  it('fires SyncctlWriteFailuresHigh when a target refuses the daemon\'s writes, and Alertmanager routes it to the pager', async () => {
    let q = 20;
    const setStock = () => fetch(`${a.info.controlUrl}/stock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: SKU, quantity: q++ }) }).catch(() => undefined);
    traffic = setInterval(() => void setStock(), 1000);
    await waitFor('SyncctlWriteFailuresHigh firing for woocommerce:b', async () => {
      const res = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: Array<{ labels: Record<string, string>; state: string }> } };
      return res.data.alerts.some((x) => x.labels.alertname === 'SyncctlWriteFailuresHigh' && x.labels.target === 'woocommerce:b' && x.state === 'firing') ? true : undefined;
    }, 120_000, 500);
    // Alertmanager has it, routed to the pager receiver (delivery to /alerts itself is proven by prometheus-live.test.ts).
    const routed = await waitFor('the alert routed in Alertmanager', async () => {
      const list = (await (await fetch(`${amUrl}/api/v2/alerts`)).json()) as Array<{ labels: Record<string, string>; receivers: Array<{ name: string }>; status: { state: string } }>;
      return list.find((x) => x.labels.alertname === 'SyncctlWriteFailuresHigh' && x.labels.target === 'woocommerce:b');
    }, 60_000, 500);
    assert.deepEqual(routed.receivers.map((r) => r.name), ['syncctl-pages']);
    assert.equal(routed.status.state, 'active');
    const dl = await (await fetch(`${daemon.adminUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
    assert.match(dl, /syncctl_writes_failed_total\{[^}]*target="woocommerce:b"[^}]*\} [1-9]/);
  });
});

