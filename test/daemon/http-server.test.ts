import { strict as assert } from 'node:assert';
import http from 'node:http';
import { once } from 'node:events';
import { startAdminServer } from '../../src/daemon/http-server.js';
import { createMetricsRegistry } from '../../src/monitoring/metrics.js';

/** GET over a keep-alive agent: status, Connection header and the socket the answer came on. */
function get(url: string, agent: http.Agent): Promise<{ status: number; connection: string | undefined; socket: import('node:net').Socket }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, socket: req.socket! }));
    });
    req.on('error', reject);
  });
}

describe('daemon admin listener: closing during a drain', function () {
  // A hang here means close() waits for the keep-alive timeout (72 s): the test fails by timeout.
  this.timeout(15_000);

  it('answers a request in flight when the drain begins, closes its keep-alive connection, and stops without waiting for the keep-alive timeout', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let arrived!: () => void;
    const inFlight = new Promise<void>((r) => (arrived = r));
    const { app, url } = await startAdminServer({
      host: '127.0.0.1',
      port: 0,
      registry: createMetricsRegistry(),
      health: {
        live: () => ({ ok: true }),
        ready: async () => {
          arrived();
          await held; // the answer is held until the drain has begun
          return { ok: true, checks: {} };
        },
      },
      alerts: false,
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(`${url}/healthz`, agent);
      assert.equal(first.connection, 'keep-alive', 'an ordinary answer keeps the connection');

      const pending = get(`${url}/readyz`, agent);
      await inFlight;
      const closed = app.close();
      while (app.server.listening) await new Promise((r) => setImmediate(r)); // the drain has begun
      release();
      const answer = await pending;
      assert.equal(answer.status, 200, 'the request in flight is answered');
      assert.equal(answer.connection, 'close', 'and told that its connection ends');
      assert.equal(answer.socket, first.socket, 'on the keep-alive connection it came on');
      if (!answer.socket.destroyed) await once(answer.socket, 'close');
      await closed;
    } finally {
      agent.destroy();
      await app.close().catch(() => undefined);
    }
  });
});
