import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { startMonitoring, stopProcess } from './support/processes.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { SyncEventBus } from '../../src/core/events.js';
import type { AlertNotification } from '../../src/monitoring/alert-receiver.js';
import { bindMetrics, createMetricsRegistry, renderMetrics } from '../../src/monitoring/metrics.js';
import { startAdminServer } from '../../src/daemon/http-server.js';
import { dashboardQueries, freePort, installMonitoringTools, waitFor } from './support/monitoring-files.js';
import { fillGrafanaVariables } from './support/promql.js';

/**
 * A real Prometheus (1 s scrape/evaluation) scrapes the daemon's admin listener (with its bearer
 * token) exposing the registry; the alert rules are the real ones with `for:` shortened to 3 s; a
 * real Alertmanager with the real routing (timings shortened) and the shipped http_config
 * delivers to syncctl's /alerts on that listener with the token. The fault: writes to a target
 * fail and errors spike.
 */
describe('Monitoring against a real Prometheus and Alertmanager', function () {
  this.timeout(90_000);
  const procs: ChildProcess[] = [];
  let dir: string;
  let app: FastifyInstance;
  let bus: SyncEventBus;
  let registry: Registry;
  let promUrl: string;
  let fault: NodeJS.Timeout | undefined;
  const notifications: AlertNotification[] = [];
  let t0 = Date.now();

  before(async function () {
    this.timeout(600_000);
    await installMonitoringTools();
    t0 = Date.now();
    dir = mkdtempSync(join(tmpdir(), 'syncctl-prom-'));
    bus = new SyncEventBus();
    registry = createMetricsRegistry({ version: 'test' });
    bindMetrics(bus, registry);

    // The daemon's admin listener: /metrics and /alerts behind the token (the receiver forwards into `notifications`).
    const token = 'prometheus-live-admin-token';
    ({ app } = await startAdminServer({
      host: '127.0.0.1',
      port: 0,
      registry,
      health: { live: () => ({ ok: true }), ready: async () => ({ ok: true, checks: {} }) },
      token,
      alerts: { bus, forward: async (n) => void notifications.push(n) },
    }));
    const daemonPort = (app.server.address() as { port: number }).port;
    const [promPort, amPort] = [await freePort(), await freePort()];
    promUrl = `http://127.0.0.1:${promPort}`;

    procs.push(...(await startMonitoring({ dir, daemonPort, promPort, amPort, alertFor: '3s', token })));
  });

  after(async () => {
    clearInterval(fault);
    for (const p of procs) await stopProcess(p);
    await app?.close();
    process.stderr.write(`[test] real Prometheus/Alertmanager test took ${Date.now() - t0} ms (logs in ${dir} if kept)\n`);
    if (dir && process.env.SYNCCTL_TEST_KEEP_MONITORING !== '1') rmSync(dir, { recursive: true, force: true });
  });

  async function query(expr: string): Promise<{ status: string; data: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> }; error?: string }> {
    const res = await fetch(`${promUrl}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: expr }) });
    return (await res.json()) as never;
  }

  it('scrapes the daemon metrics', async () => {
    await waitFor('up{job="syncctl"} == 1', async () => ((await query('up{job="syncctl"}')).data.result[0]?.value[1] === '1' ? true : undefined), 30_000);
    const build = await query('syncctl_build_info');
    assert.equal(build.data.result[0]?.metric.version, 'test');
    const rss = await query('syncctl_process_resident_memory_bytes');
    assert.ok(Number(rss.data.result[0]?.value[1]) > 0);
  });

  it('takes an error spike and failing writes through pending and firing, and Alertmanager delivers them to /alerts', async () => {
    // Fault: every write to woocommerce:outlet fails.
    fault = setInterval(() => {
      for (let i = 0; i < 50; i++) bus.emit('error', { component: 'writer', errorClass: 'retriable', code: 'HTTP_503' });
      bus.emit('write.failed', { target: 'woocommerce:outlet', kind: 'inventory', errorClass: 'retriable', code: 'HTTP_503', count: 10 });
    }, 250);
    await waitFor('the failing writes in Prometheus', async () => {
      const r = await query('syncctl_writes_failed_total{target="woocommerce:outlet"}');
      return Number(r.data.result[0]?.value[1] ?? 0) > 0 ? true : undefined;
    });

    const states = new Set<string>();
    await waitFor('SyncctlErrorSpike and SyncctlWriteFailuresHigh firing', async () => {
      const res = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: Array<{ labels: Record<string, string>; state: string }> } };
      const ours = res.data.alerts.filter((a) => ['SyncctlErrorSpike', 'SyncctlWriteFailuresHigh'].includes(a.labels.alertname!));
      for (const a of ours) states.add(`${a.labels.alertname}:${a.state}`);
      return ours.length === 2 && ours.every((a) => a.state === 'firing') ? true : undefined;
    }, 30_000, 100);
    assert.ok(states.has('SyncctlErrorSpike:pending'), `pending was seen: ${[...states].join(', ')}`);

    const delivered = await waitFor('both notifications at /alerts', async () => {
      const firing = notifications.flatMap((n) => n.alerts.map((a) => ({ n, a }))).filter((x) => x.a.status === 'firing');
      const spike = firing.find((x) => x.a.labels.alertname === 'SyncctlErrorSpike');
      const writes = firing.find((x) => x.a.labels.alertname === 'SyncctlWriteFailuresHigh');
      return spike && writes ? { spike, writes } : undefined;
    }, 30_000);
    assert.equal(delivered.spike.n.receiver, 'syncctl-tickets');
    assert.equal(delivered.spike.a.labels.severity, 'warning');
    assert.equal(delivered.spike.a.labels.component, 'writer');
    assert.equal(delivered.spike.a.annotations.runbook_url, 'docs/operations.md#alert-syncctlerrorspike');
    assert.equal(delivered.writes.n.receiver, 'syncctl-pages');
    assert.equal(delivered.writes.a.labels.target, 'woocommerce:outlet');
    assert.match(delivered.writes.a.annotations.summary ?? '', /100% of writes to woocommerce:outlet fail/);
    // The receiver counted what it received.
    const received = await renderMetrics(registry);
    assert.match(received.body, /syncctl_alert_notifications_total\{alertname="SyncctlErrorSpike",severity="warning",status="firing"\} [1-9]/);
  });

  it('runs every dashboard panel query against the live Prometheus without error', async () => {
    // Some data behind the per-source panels, so their queries are evaluated on real series.
    bus.emit('events.ingested', { source: 'erp', origin: 'cdc', eventType: 'stock_levels', count: 3 });
    bus.emit('write.applied', { source: 'erp', target: 'shopify:main', kind: 'inventory', path: 'change', count: 1, latencySeconds: [0.3] });
    const queries = dashboardQueries();
    for (const q of queries) {
      const expr = fillGrafanaVariables(q.expr, { source: 'erp' });
      const r = await query(expr);
      assert.equal(r.status, 'success', `${q.dashboard} / ${q.panel}: ${expr}: ${r.error}`);
    }
    const sourceVar = await fetch(`${promUrl}/api/v1/label/source/values?match[]=syncctl_events_ingested_total`);
    assert.equal(((await sourceVar.json()) as { status: string }).status, 'success');
  });
});

