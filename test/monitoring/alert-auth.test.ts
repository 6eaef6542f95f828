import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { startAdminServer } from '../../src/daemon/http-server.js';
import { createMetricsRegistry } from '../../src/monitoring/metrics.js';
import type { AlertNotification } from '../../src/monitoring/alert-receiver.js';
import { freePort, installMonitoringTools, REPO, waitFor } from './support/monitoring-files.js';

const TOKEN = 'alert-auth-admin-token';

/** Runs scripts/monitoring/alertmanager.sh with env; resolves with its exit code and output. */
function alertmanagerScript(action: string, env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('bash', [join(REPO, 'scripts/monitoring/alertmanager.sh'), action], { env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

/**
 * The real Alertmanager, started by the project's script with the shipped alertmanager.yml,
 * notifying the /alerts receiver of the daemon's admin listener (token required): with
 * SYNCCTL_ADMIN_TOKEN it delivers, without it every attempt is refused (401) and nothing arrives.
 */
describe('Alertmanager → /alerts on the admin listener (bearer token)', function () {
  this.timeout(180_000);
  let app: FastifyInstance;
  const received: AlertNotification[] = [];
  const stacks: Array<{ env: Record<string, string>; url: string }> = [];

  before(async function () {
    this.timeout(600_000);
    await installMonitoringTools();
    ({ app } = await startAdminServer({
      host: '127.0.0.1',
      port: 0,
      registry: createMetricsRegistry({ version: 'test' }),
      health: { live: () => ({ ok: true }), ready: async () => ({ ok: true, checks: {} }) },
      token: TOKEN,
      alerts: { forward: async (n) => void received.push(n) },
    }));
    const alertsUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/alerts`;
    for (const token of [TOKEN, '']) {
      const port = await freePort();
      const env = { STACK_DIR: mkdtempSync(join(tmpdir(), 'syncctl-amauth-')), ALERTMANAGER_PORT: String(port), SYNCCTL_ALERTS_URL: alertsUrl, SYNCCTL_ADMIN_TOKEN: token };
      const r = await alertmanagerScript('up', env);
      assert.equal(r.code, 0, r.out);
      assert.ok(!r.out.includes(TOKEN), 'the script never prints the token');
      stacks.push({ env, url: `http://127.0.0.1:${port}` });
    }
  });
  after(async () => {
    for (const s of stacks) {
      await alertmanagerScript('down', s.env);
      rmSync(s.env.STACK_DIR!, { recursive: true, force: true });
    }
    await app?.close();
  });

  const fire = async (url: string, alertname: string) => {
    const r = await fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ labels: { alertname, severity: 'critical', source: 'test' }, annotations: { summary: alertname } }]) });
    assert.equal(r.status, 200, await r.text());
  };

  /** alertmanager_notifications_failed_total of the webhook integration (summed over its reasons). */
  const webhookFailures = async (url: string): Promise<number> =>
    (await (await fetch(`${url}/metrics`)).text()).split('\n')
      .filter((l) => l.startsWith('alertmanager_notifications_failed_total{') && l.includes('integration="webhook"'))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);

  it('keeps the token in a file only its owner reads', () => {
    const mode = statSync(join(stacks[0]!.env.STACK_DIR!, 'alertmanager/syncctl-admin-token')).mode & 0o777;
    assert.equal(mode, 0o600);
  });

  it('delivers with the token, and fails without it', async () => {
    const [withToken, without] = stacks;
    await fire(withToken!.url, 'SyncctlAuthWithToken');
    await fire(without!.url, 'SyncctlAuthWithoutToken');
    await waitFor('the notification sent with the token', async () => (received.some((n) => n.commonLabels.alertname === 'SyncctlAuthWithToken') ? true : undefined), 60_000);
    const failed = await waitFor('a failed webhook notification without the token', async () => ((await webhookFailures(without!.url)) > 0 ? true : undefined), 60_000);
    assert.ok(failed);
    assert.ok(!received.some((n) => n.commonLabels.alertname === 'SyncctlAuthWithoutToken'), 'nothing arrives without the token');
    assert.equal(await webhookFailures(withToken!.url), 0, 'no failure with the token');
  });
});
