import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import Fastify from 'fastify';
import { SyncEventBus } from '../../src/core/events.js';
import { PermanentError } from '../../src/core/errors.js';
import { alertReceiverPlugin, handleAlertNotification, httpAlertForwarder, type AlertNotification } from '../../src/monitoring/alert-receiver.js';

/** An Alertmanager webhook body (version 4) with one firing and one resolved alert. */
function notification(): Record<string, unknown> {
  return {
    version: '4',
    groupKey: '{}/{severity="critical"}:{alertname="SyncctlConnectorFailed"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'syncctl-pages',
    groupLabels: { alertname: 'SyncctlConnectorFailed' },
    commonLabels: { alertname: 'SyncctlConnectorFailed', severity: 'critical', source: 'erp' },
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:29193',
    alerts: [
      { status: 'firing', labels: { alertname: 'SyncctlConnectorFailed', severity: 'critical', connector: 'syncctl-erp' }, annotations: { summary: 'failed', runbook_url: 'docs/operations.md#alert-syncctlconnectorfailed' }, startsAt: '2030-01-01T00:00:00Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://x', fingerprint: 'a1' },
      { status: 'resolved', labels: { alertname: 'SyncctlConnectTaskFailed', severity: 'critical', connector: 'syncctl-erp', task: '0' }, annotations: {}, startsAt: '2030-01-01T00:00:00Z', endsAt: '2030-01-01T00:05:00Z', fingerprint: 'b2' },
    ],
  };
}

describe('Alert receiver (/alerts)', () => {
  it('counts firing and resolved alerts and emits alert.received for each', async () => {
    const bus = new SyncEventBus();
    const seen: string[] = [];
    bus.on('alert.received', (e) => seen.push(`${e.alertname}:${e.severity}:${e.status}`));
    const receipt = await handleAlertNotification(notification(), { bus });
    assert.deepEqual(receipt, { groupKey: notification().groupKey, firing: 1, resolved: 1, forwarded: false });
    assert.deepEqual(seen, ['SyncctlConnectorFailed:critical:firing', 'SyncctlConnectTaskFailed:critical:resolved']);
  });

  it('rejects a body that is not an Alertmanager notification with ALERT_BODY_INVALID', async () => {
    await assert.rejects(handleAlertNotification({ version: '3', alerts: [] }), (e: unknown) => e instanceof PermanentError && e.code === 'ALERT_BODY_INVALID');
  });

  it('answers 200 with the receipt, 400 for a foreign body and 502 when forwarding fails', async () => {
    let fail = false;
    const forwarded: AlertNotification[] = [];
    const app = Fastify();
    await app.register(alertReceiverPlugin, {
      forward: async (n) => {
        if (fail) throw new Error('ECONNREFUSED');
        forwarded.push(n);
      },
    });
    try {
      const ok = await app.inject({ method: 'POST', url: '/alerts', payload: notification() });
      assert.equal(ok.statusCode, 200);
      assert.equal(ok.json().forwarded, true);
      assert.equal(forwarded[0]?.receiver, 'syncctl-pages');
      const bad = await app.inject({ method: 'POST', url: '/alerts', payload: { hello: 'world' } });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().error, 'ALERT_BODY_INVALID');
      fail = true;
      const down = await app.inject({ method: 'POST', url: '/alerts', payload: notification() });
      assert.equal(down.statusCode, 502);
      assert.equal(down.json().error, 'ALERT_FORWARD_FAILED');
    } finally {
      await app.close();
    }
  });

  describe('httpAlertForwarder', () => {
    let server: Server;
    let bodies: unknown[];
    let status = 200;
    let url: string;
    before(async () => {
      bodies = [];
      server = createServer((req, res) => {
        let data = '';
        req.on('data', (c) => (data += c));
        req.on('end', () => {
          bodies.push(JSON.parse(data));
          res.writeHead(status).end();
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    it('POSTs the notification as JSON, and throws on a non-2xx answer', async () => {
      const fwd = httpAlertForwarder(url, 2000);
      await handleAlertNotification(notification(), { forward: fwd });
      assert.equal((bodies[0] as AlertNotification).groupKey, notification().groupKey);
      status = 500;
      await assert.rejects(fwd(bodies[0] as AlertNotification), /HTTP 500/);
    });
  });
});
