// Genuine webhook acknowledgement under a flood of forgeries: signed Shopify deliveries at a
// steady 100/s to the daemon's public listener (verify HMAC → parse → store → 200), measured
// alone, then while 1,000 forged requests/s (wrong signature, ~1 KB bodies) arrive, in the same
// run. Two floods: from 100 sources each staying within the per-source budget (every forgery
// costs a full HMAC and a 401: the worst case for the listener), and from one source (the limit
// answers 429 before the body is read). The clients are child processes, so this process is the
// listener and the intake only, and its CPU time per forged request is measured too (a figure a
// busy machine disturbs less than latency). Target: genuine p99 under the flood within 2× the
// p99 without it, and no genuine delivery refused.
import { benchShopifyIntake } from './support.js';
import { loadavg } from 'node:os';
import { spawn } from 'node:child_process';
import { startPublicServer } from '../src/daemon/http-server.js';
import { percentile, round, type BenchFigure } from './lib.js';

const SECRET = 'bench_flood_client_secret';
const GENUINE_RATE = 100;
const FORGED_RATE = 1000;
const SECONDS = 15;

/**
 * A client process: sends `rate` requests/s for `seconds` from the given source addresses (round
 * robin, one keep-alive agent each); genuine requests are signed, forged ones are not; reports
 * the latency of each 200 and the count of every status.
 */
const CLIENT = `
const w = JSON.parse(process.env.FLOOD_CLIENT);
const { request, Agent } = require('node:http');
const { createHmac, randomUUID } = require('node:crypto');
const url = new URL(w.url);
const agents = w.sources.map((localAddress) => new Agent({ keepAlive: true, maxSockets: 64, localAddress }));
const statuses = {};
const lat = [];
let n = 0;
function send(i) {
  const id = 9100000000000 + w.offset + i;
  const now = new Date().toISOString();
  const body = JSON.stringify({ id, admin_graphql_api_id: 'gid://shopify/Product/' + id, title: 'Product ' + i, status: 'active', updated_at: now, variants: [{ id: 46000000000000 + w.offset + i, sku: 'SKU-' + String(i).padStart(6, '0') + '-1', price: '19.90', inventory_item_id: 48000000000000 + w.offset + i, updated_at: now }], body_html: 'x'.repeat(700) });
  const hmac = w.genuine ? createHmac('sha256', w.secret).update(body).digest('base64') : 'Zm9yZ2VkLXNpZ25hdHVyZS1vZi1hLWZha2UtZGVsaXZlcnk=';
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', agent: agents[i % agents.length], headers: { 'content-type': 'application/json', 'x-shopify-topic': 'products/update', 'x-shopify-shop-domain': 'bench.myshopify.com', 'x-shopify-event-id': randomUUID(), 'x-shopify-webhook-id': randomUUID(), 'x-shopify-hmac-sha256': hmac } }, (res) => {
      res.resume();
      res.on('end', () => {
        statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1;
        if (res.statusCode === 200) lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
        resolve();
      });
    });
    req.on('error', () => { statuses.error = (statuses.error || 0) + 1; resolve(); });
    req.end(body);
  });
}
(async () => {
  const inflight = [];
  const start = Date.now();
  const total = w.rate * w.seconds;
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / w.rate - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inflight.push(send(i));
    if (inflight.length > 5000) await Promise.all(inflight.splice(0, 2500));
  }
  await Promise.all(inflight);
  const seconds = (Date.now() - start) / 1000;
  for (const a of agents) a.destroy();
  process.stdout.write(JSON.stringify({ statuses, lat, rate: total / seconds }));
})();
`;

interface ClientResult {
  statuses: Record<string, number>;
  lat: number[];
  rate: number;
}

function client(data: { url: string; rate: number; seconds: number; sources: string[]; genuine: boolean; secret: string; offset: number }): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CLIENT], { env: { ...process.env, FLOOD_CLIENT: JSON.stringify(data) }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as ClientResult) : reject(new Error(`flood client exited ${code}`))));
  });
}

/** CPU time of this process (the listener and the intake) spent while `fn` runs, in ms. */
async function cpuOf<T>(fn: () => Promise<T>): Promise<{ result: T; cpuMs: number }> {
  const t0 = process.cpuUsage();
  const result = await fn();
  const d = process.cpuUsage(t0);
  return { result, cpuMs: (d.user + d.system) / 1000 };
}

export default async function run(): Promise<BenchFigure[]> {
  const { config, intake, drop } = await benchShopifyIntake('flood', SECRET);
  // The daemon's defaults: burst 50, 10 refusals/s earned back per source.
  const limit = config.http.public.rateLimit;
  const server = await startPublicServer({ host: '127.0.0.1', port: 0, bodyLimitBytes: 1_048_576, intake, live: () => true, rateLimit: { burst: limit.burst, perSecond: limit.perSecond } });
  const url = `${server.url}/webhooks/shopify/main`;
  const genuine = (offset: number) => client({ url, rate: GENUINE_RATE, seconds: SECONDS, sources: ['127.0.0.1'], genuine: true, secret: SECRET, offset });
  const flood = (sources: string[]) => client({ url, rate: FORGED_RATE, seconds: SECONDS + 1, sources, genuine: false, secret: SECRET, offset: 0 });
  // 100 sources × 10/s: each stays within its budget, so every forgery is verified and refused (401).
  const many = Array.from({ length: 100 }, (_, i) => `127.0.1.${i + 1}`);

  const load = loadavg().map((x) => round(x, 1)); // a busy machine makes every figure worse: keep it beside them
  // Warm-up (JIT, connections, the pool), not measured: the quiet phase is the CPU baseline.
  await client({ url, rate: GENUINE_RATE, seconds: 5, sources: ['127.0.0.1'], genuine: true, secret: SECRET, offset: 3_000_000 });
  const quiet = await cpuOf(() => genuine(0));
  const many_ = await cpuOf(() => Promise.all([genuine(1_000_000), flood(many)]));
  const one_ = await cpuOf(() => Promise.all([genuine(2_000_000), flood(['127.0.2.1'])]));
  const [underMany, floodMany] = many_.result;
  const [underOne, floodOne] = one_.result;
  const forgedCount = (r: ClientResult) => Object.values(r.statuses).reduce((n, v) => n + v, 0);
  // CPU of the listener per forged request: the flood phase's CPU minus the quiet phase's (same genuine load).
  const cpuPerForged = (phase: { cpuMs: number }, f: ClientResult) => round(((phase.cpuMs - quiet.cpuMs) * 1000) / forgedCount(f), 1);

  await server.app.close();
  await drop();

  const refused = (r: ClientResult) => Object.entries(r.statuses).filter(([s]) => s !== '200').reduce((n, [, v]) => n + v, 0);
  const p99 = (r: ClientResult) => round(percentile(r.lat, 99));
  const base = { name: 'webhook.flood.none.genuine.ack.p99', value: p99(quiet.result), unit: 'ms' };
  const common = { genuineRate: GENUINE_RATE, seconds: SECONDS, loadAverageAtStart: load };
  return [
    { ...base, params: { ...common, genuineRefused: refused(quiet.result), achievedRate: round(quiet.result.rate, 0), listenerCpuMs: round(quiet.cpuMs, 0) } },
    {
      name: 'webhook.flood.many-sources.genuine.ack.p99', value: p99(underMany), unit: 'ms', baseline: base, ratio: round(p99(underMany) / base.value, 3), target: '≤ 2× without the flood; no genuine delivery refused',
      params: { ...common, forgedRate: FORGED_RATE, forgedSources: many.length, forgedAchievedRate: round(floodMany.rate, 0), forgedStatuses: floodMany.statuses, genuineRefused: refused(underMany) },
    },
    {
      name: 'webhook.flood.one-source.genuine.ack.p99', value: p99(underOne), unit: 'ms', baseline: base, ratio: round(p99(underOne) / base.value, 3), target: '≤ 2× without the flood; no genuine delivery refused',
      params: { ...common, forgedRate: FORGED_RATE, forgedSources: 1, forgedAchievedRate: round(floodOne.rate, 0), forgedStatuses: floodOne.statuses, genuineRefused: refused(underOne) },
    },
    { name: 'webhook.flood.none.genuine.ack.p50', value: round(percentile(quiet.result.lat, 50)), unit: 'ms', params: common },
    { name: 'webhook.flood.many-sources.genuine.ack.p50', value: round(percentile(underMany.lat, 50)), unit: 'ms', params: common },
    { name: 'webhook.flood.many-sources.listener.cpu.per.forged', value: cpuPerForged(many_, floodMany), unit: 'µs', params: { ...common, note: 'signature verified and refused (401)', listenerCpuMs: round(many_.cpuMs, 0) } },
    { name: 'webhook.flood.one-source.listener.cpu.per.forged', value: cpuPerForged(one_, floodOne), unit: 'µs', params: { ...common, note: 'mostly 429 before the body is read', listenerCpuMs: round(one_.cpuMs, 0) } },
  ];
}
