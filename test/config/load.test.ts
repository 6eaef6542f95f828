import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { alertReceiverEnabled } from '../../src/config/schema.js';
import { ConfigError } from '../../src/core/errors.js';
import { redact, REDACTED } from '../../src/config/redact.js';

const dir = mkdtempSync(join(tmpdir(), 'syncctl-config-'));
const file = (name: string, body: string) => {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
};
const issuesOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return (err.details?.issues ?? []) as Array<{ path: string; message: string; origin: string }>;
  }
  assert.fail('expected loadConfig to throw');
};

describe('loadConfig', () => {
  it('runs on built-in defaults that point at the local stack when no file exists', async () => {
    const { config, filepath } = await loadConfig({ cwd: dir, env: {} });
    assert.equal(filepath, null);
    assert.equal(config.database.url, 'postgres://postgres@127.0.0.1:5432/syncctl');
    assert.deepEqual(config.kafka.brokers, ['127.0.0.1:29092']);
    assert.equal(config.sources.shopify && Object.keys(config.sources.shopify).length, 0);
  });

  it('names the key of a value with the wrong type', async () => {
    const p = file('wrong-type.yml', 'http:\n  public:\n    port: "eighty"\n');
    const issues = await issuesOf(loadConfig({ file: p, env: {} }));
    assert.equal(issues[0]?.path, 'http.public.port');
  });

  it('names an unknown key, also inside a source instance', async () => {
    const p = file('unknown.yml', 'kafka:\n  brokerz: [a:1]\nsources:\n  shopify:\n    main:\n      shop: a.myshopify.com\n      accessToken: t\n      clientSecret: s\n      colour: red\n');
    const issues = await issuesOf(loadConfig({ file: p, env: {} }));
    const paths = issues.map((i) => i.path).sort();
    assert.deepEqual(paths, ['kafka.brokerz', 'sources.shopify.main.colour']);
    assert.match(issues[0]!.message, /unknown key/);
  });

  it('reports every problem at once, not only the first', async () => {
    const p = file('many.yml', 'database:\n  url: mysql://x\nredis:\n  url: nope\nsync:\n  authority: amazon\n');
    const issues = await issuesOf(loadConfig({ file: p, env: {} }));
    assert.deepEqual(issues.map((i) => i.path).sort(), ['database.url', 'redis.url', 'sync.authority']);
  });

  it('lets environment variables win over the file', async () => {
    const p = file('env.yml', 'database:\n  url: postgres://file@db/x\nkafka:\n  brokers: ["file:1"]\n');
    const { config, envOverrides } = await loadConfig({
      file: p,
      env: { SYNCCTL_DATABASE_URL: 'postgres://env@db/y', SYNCCTL_KAFKA_BROKERS: 'a:1,b:2', SYNCCTL_REDIS_URL: 'redis://r:1/2' },
    });
    assert.equal(config.database.url, 'postgres://env@db/y');
    assert.deepEqual(config.kafka.brokers, ['a:1', 'b:2']);
    assert.equal(config.redis.url, 'redis://r:1/2');
    assert.equal(envOverrides.SYNCCTL_KAFKA_BROKERS, 'kafka.brokers');
  });

  it('takes secrets of a named instance from the environment with __ between levels', async () => {
    const p = file('secret.yml', 'sources:\n  shopify:\n    eu:\n      shop: eu.myshopify.com\n      accessToken: placeholder\n      clientSecret: placeholder\n');
    const { config } = await loadConfig({ file: p, env: { SYNCCTL_SOURCES__SHOPIFY__EU__ACCESS_TOKEN: 'shpat_real' } });
    assert.equal(config.sources.shopify.eu?.accessToken, 'shpat_real');
  });

  it('names the environment variable a bad value came from', async () => {
    const issues = await issuesOf(loadConfig({ cwd: dir, env: { SYNCCTL_HTTP__PUBLIC__PORT: 'x' } }));
    assert.equal(issues[0]?.path, 'http.public.port');
    assert.equal(issues[0]?.origin, 'env SYNCCTL_HTTP__PUBLIC__PORT');
  });

  it('fails with CONFIG_NOT_FOUND for a --config file that does not exist', async () => {
    await assert.rejects(loadConfig({ file: join(dir, 'missing.yml'), env: {} }), (e: ConfigError) => e.code === 'CONFIG_NOT_FOUND');
  });

  it('fails with CONFIG_UNREADABLE for a file that is not valid YAML', async () => {
    const p = file('broken.yml', 'kafka: [\n');
    await assert.rejects(loadConfig({ file: p, env: {} }), (e: ConfigError) => e.code === 'CONFIG_UNREADABLE');
  });

  it('fails with CONFIG_UNREADABLE for a file it may not read', async function () {
    if (process.getuid?.() === 0) this.skip(); // root reads everything
    const p = file('secret-mode.yml', 'kafka: {}\n');
    chmodSync(p, 0o000);
    await assert.rejects(loadConfig({ file: p, env: {} }), (e: ConfigError) => e.code === 'CONFIG_UNREADABLE');
  });

  it('loads the shipped config/config.yml and config/config.example.yml', async () => {
    for (const f of ['config/config.yml', 'config/config.example.yml']) {
      const { config } = await loadConfig({ file: f, env: {} });
      assert.ok(config.kafka.brokers.length > 0, f);
    }
  });
});

describe('http listeners config', () => {
  it('refuses the old http.port and http.host, naming the keys that replace them', async () => {
    const issues = await issuesOf(loadConfig({ file: file('old-http.yml', 'http:\n  host: 0.0.0.0\n  port: 8080\n'), env: {} }));
    assert.deepEqual(issues.map((i) => i.path).sort(), ['http.host', 'http.port']);
    for (const i of issues) assert.match(i.message, /http\.public\.(host|port).*http\.admin\.(host|port)/);
  });

  it('binds both listeners to loopback by default: public 28700, admin 28701, no token, no /alerts', async () => {
    const { config } = await loadConfig({ cwd: dir, env: {} });
    assert.deepEqual([config.http.public.host, config.http.public.port, config.http.admin.host, config.http.admin.port], ['127.0.0.1', 28700, '127.0.0.1', 28701]);
    assert.equal(config.http.admin.token, undefined);
    assert.equal(alertReceiverEnabled(config), false);
  });

  it('refuses an admin listener off loopback without a token, and accepts it with one from the environment', async () => {
    const p = file('admin-open.yml', 'http:\n  admin:\n    host: 0.0.0.0\n');
    const issues = await issuesOf(loadConfig({ file: p, env: {} }));
    assert.equal(issues[0]?.path, 'http.admin.host');
    assert.match(issues[0]!.message, /needs http\.admin\.token/);
    const { config } = await loadConfig({ file: p, env: { SYNCCTL_HTTP__ADMIN__TOKEN: 'a-long-enough-admin-token' } });
    assert.equal(config.http.admin.token, 'a-long-enough-admin-token');
    assert.equal(alertReceiverEnabled(config), true, 'a token turns the /alerts receiver on by default');
  });

  it('refuses the /alerts receiver without a token, a short token, and one port for both listeners', async () => {
    const issues = await issuesOf(loadConfig({ file: file('alerts.yml', 'monitoring:\n  alertReceiver:\n    enabled: true\nhttp:\n  public:\n    port: 9000\n  admin:\n    port: 9000\n'), env: {} }));
    assert.deepEqual(issues.map((i) => i.path).sort(), ['http.admin.port', 'monitoring.alertReceiver.enabled']);
    const short = await issuesOf(loadConfig({ cwd: dir, env: { SYNCCTL_HTTP__ADMIN__TOKEN: 'short' } }));
    assert.deepEqual(short.map((i) => i.path), ['http.admin.token']);
  });

  it('redacts the admin token', () => {
    assert.equal(redact({ http: { admin: { token: 'a-long-enough-admin-token' } } }).http.admin.token, REDACTED);
  });
});

describe('redact', () => {
  it('hides tokens, secrets and URL passwords and keeps everything else', () => {
    const out = redact({ a: { accessToken: 'shpat_x', consumerSecret: 'cs_y', url: 'postgres://u:pw@h/db', port: 1 } });
    assert.equal(out.a.accessToken, REDACTED);
    assert.equal(out.a.consumerSecret, REDACTED);
    assert.equal(out.a.url, `postgres://u:${REDACTED}@h/db`);
    assert.equal(out.a.port, 1);
  });
});
