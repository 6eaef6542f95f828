// A minimal load balancer in front of several daemons' webhook intake: forwards each request to
// the first backend that accepts the connection (as a real one would after its health checks),
// so platforms keep one webhook URL while daemons die and start.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running balancer. */
export interface Balancer {
  url: string;
  /** Backends in order of preference (`http://127.0.0.1:port`). */
  backends: string[];
  close(): Promise<void>;
}

/** Starts a balancer on a free port. */
export async function startBalancer(backends: string[]): Promise<Balancer> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const tryAt = (i: number): void => {
        if (i >= balancer.backends.length) {
          res.statusCode = 502;
          res.end('no backend');
          return;
        }
        const u = new URL(req.url ?? '/', balancer.backends[i]);
        const out = request(u, { method: req.method, headers: req.headers }, (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        });
        out.on('error', () => tryAt(i + 1));
        out.end(body);
      };
      tryAt(0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const balancer: Balancer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    backends,
    close: () => new Promise((r) => server.close(() => r())),
  };
  return balancer;
}
