import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ShopifyClient, ShopifyCostBucket } from '../../../src/connectors/shopify/index.js';
import { documentFromAst, estimateCost, loadDocument } from '../../../src/connectors/shopify/documents.js';
import { ConfigError, PermanentError, RetriableError } from '../../../src/core/errors.js';
import { SyncEventBus } from '../../../src/core/events.js';
import { parse } from 'graphql';
import { control, startRig, type Rig } from './helpers.js';

const shopQuery = documentFromAst('ShopName', parse('query ShopName { shop { name } }'));

function clientFor(url: string, o: { token?: string; version?: string; timeoutMs?: number; bus?: SyncEventBus } = {}): ShopifyClient {
  const bus = o.bus ?? new SyncEventBus();
  return new ShopifyClient({
    instance: 't', shop: 'sim-shop', url, apiVersion: o.version ?? '2026-04', accessToken: o.token ?? 'shpat_simulator_token',
    bucket: new ShopifyCostBucket({ instance: 't', events: bus }), events: bus, timeoutMs: o.timeoutMs, retry: { initialDelayMs: 5, maxDelayMs: 20, retries: 4 },
  });
}

describe('Shopify client', () => {
  let rig: Rig;
  let odd: Server;
  let oddUrl = '';
  let oddAnswer: (res: import('node:http').ServerResponse) => void = (res) => res.end('{');

  before(async () => {
    rig = await startRig();
    odd = createServer((_req, res) => oddAnswer(res));
    await new Promise<void>((r) => odd.listen(0, '127.0.0.1', r));
    oddUrl = `http://127.0.0.1:${(odd.address() as AddressInfo).port}`;
  });
  after(async () => {
    await rig.close();
    await new Promise((r) => odd.close(() => r(undefined)));
  });

  it('estimates a query cost as Shopify reports it', async () => {
    const doc = loadDocument('PollProducts');
    const vars = { first: 10, variantsFirst: 5, locationId: 'gid://shopify/Location/1' };
    const bus = new SyncEventBus();
    const client = clientFor(rig.sim.baseUrl, { bus });
    const res = await fetch(rig.sim.graphqlUrl, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': rig.sim.info.accessToken! }, body: JSON.stringify({ query: doc.text, variables: vars }) });
    const body = (await res.json()) as { extensions: { cost: { requestedQueryCost: number } } };
    assert.equal(estimateCost(doc.ast, vars), body.extensions.cost.requestedQueryCost);
    assert.equal(client.expectedCost(doc, vars).cost, body.extensions.cost.requestedQueryCost);
  });

  it('reports a refused access token as a configuration error naming the store, with a hint', async () => {
    await assert.rejects(clientFor(rig.sim.baseUrl, { token: 'wrong' }).request(shopQuery), (e: unknown) => e instanceof ConfigError && e.code === 'SHOPIFY_TOKEN_REFUSED' && /Shopify store t /.test(e.message) && !!e.hint);
  });

  it('reports an unknown API version as a permanent not-found error', async () => {
    await assert.rejects(clientFor(rig.sim.baseUrl, { version: '2031-01' }).request(shopQuery), (e: unknown) => e instanceof PermanentError && e.code === 'SHOPIFY_NOT_FOUND');
  });

  it('reports a document Shopify refuses as a permanent GraphQL error', async () => {
    const bad = documentFromAst('Bad', parse('query Bad { shop { nope } }'));
    await assert.rejects(clientFor(rig.sim.baseUrl).request(bad), (e: unknown) => e instanceof PermanentError && e.code === 'SHOPIFY_GRAPHQL_ERROR');
  });

  it('retries HTTP 5xx answers with backoff and emits retry events', async () => {
    await control(rig.sim, 'PUT', '/faults', { api: { errorRate: 0.5 } });
    const bus = new SyncEventBus();
    let retries = 0;
    bus.on('retry', () => { retries++; });
    try {
      const client = clientFor(rig.sim.baseUrl, { bus });
      for (let i = 0; i < 10; i++) await client.request(shopQuery, {}, { retry: { retries: 12 } });
    } finally {
      await control(rig.sim, 'PUT', '/faults', { api: { errorRate: 0 } });
    }
    assert.ok(retries > 0);
  });

  it('reports a body that is not JSON as a retriable malformed response', async () => {
    oddAnswer = (res) => { res.setHeader('Content-Type', 'application/json'); res.end('{"data": '); };
    await assert.rejects(clientFor(oddUrl).request(shopQuery, {}, { retry: { retries: 1 } }), (e: unknown) => e instanceof RetriableError && e.code === 'SHOPIFY_MALFORMED_RESPONSE');
  });

  it('reports a request that takes too long as a retriable timeout', async () => {
    oddAnswer = (res) => { setTimeout(() => res.end('{}'), 500); };
    await assert.rejects(clientFor(oddUrl, { timeoutMs: 50 }).request(shopQuery, {}, { retry: { retries: 1 } }), (e: unknown) => e instanceof RetriableError && e.code === 'SHOPIFY_TIMEOUT');
  });

  it('retries THROTTLED after the time the bucket needs and then succeeds', async () => {
    let n = 0;
    oddAnswer = (res) => {
      n++;
      const status = { maximumAvailable: 2000, currentlyAvailable: n === 1 ? 0 : 1990, restoreRate: 100 };
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(n === 1
        ? { errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }], extensions: { cost: { requestedQueryCost: 1, actualQueryCost: null, throttleStatus: status } } }
        : { data: { shop: { name: 'x' } }, extensions: { cost: { requestedQueryCost: 1, actualQueryCost: 1, throttleStatus: status } } }));
    };
    const bus = new SyncEventBus();
    let throttled = 0;
    bus.on('shopify.throttled', () => { throttled++; });
    const data = await clientFor(oddUrl, { bus }).request<{ shop: { name: string } }>(shopQuery);
    assert.equal(data.shop.name, 'x');
    assert.equal(throttled, 1);
  });
});
