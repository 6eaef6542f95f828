/**
 * Webhook delivery of the simulators: POSTs over a keep-alive connection pool with a bounded
 * number of connections per receiver, as a platform's delivery workers have. Deliveries beyond
 * the bound wait for a free connection (the receiver's timeout counts from the moment a request
 * has a connection), so a burst of thousands of changes neither opens thousands of sockets
 * (EMFILE) nor hides a slow receiver.
 */
import http from 'node:http';
import https from 'node:https';

/** Posts webhook bodies to receivers. */
export class WebhookPoster {
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly inflight = new Set<http.ClientRequest>();

  /** `connections`: at most this many concurrent deliveries per receiver (host and port). */
  constructor(connections: number) {
    this.agents = {
      http: new http.Agent({ keepAlive: true, maxSockets: connections }),
      https: new https.Agent({ keepAlive: true, maxSockets: connections }),
    };
  }

  /**
   * POSTs `body`; resolves with the HTTP status once the response is read, rejects on a network
   * error, on {@link close}, or when the receiver stays silent for `timeoutMs` once connected.
   */
  post(url: string, body: string, headers: Record<string, string>, opts: { timeoutMs: number }): Promise<number> {
    const u = new URL(url);
    const secure = u.protocol === 'https:';
    return new Promise<number>((resolve, reject) => {
      const req = (secure ? https : http).request(u, {
        method: 'POST',
        agent: secure ? this.agents.https : this.agents.http,
        headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
      }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('socket', () => req.setTimeout(opts.timeoutMs, () => req.destroy(new Error(`timed out after ${opts.timeoutMs} ms`))));
      req.on('error', reject);
      req.on('close', () => this.inflight.delete(req));
      this.inflight.add(req);
      req.end(body);
    });
  }

  /** Aborts the deliveries in flight and closes every connection. */
  close(): void {
    for (const req of this.inflight) req.destroy(new Error('the simulator is closing'));
    this.inflight.clear();
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
