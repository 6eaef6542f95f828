import { strict as assert } from 'node:assert';
import { runCli } from '../support/cli.js';

describe('syncctl CLI (base command)', () => {
  it('lists the commands in --help', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.exitCode, 0);
    for (const cmd of ['init-db', 'stack', 'config']) assert.match(String(r.stdout), new RegExp(`\\b${cmd}\\b`));
  });

  it('prints the stable {status, result, warnings} envelope with --json', async () => {
    const r = await runCli(['config', 'show', '--json']);
    assert.equal(r.exitCode, 0);
    assert.deepEqual(Object.keys(r.json).sort(), ['result', 'status', 'warnings']);
    assert.equal(r.json.status, 0);
  });

  it('redacts secrets in `config show --json`, also those given by environment', async () => {
    const r = await runCli(['config', 'show', '--json', '--config', 'config/config.yml'], {
      env: { SYNCCTL_SOURCES__SHOPIFY__MAIN__ACCESS_TOKEN: 'shpat_TOPSECRET', SYNCCTL_DATABASE_URL: 'postgres://u:hunter2@127.0.0.1/x', SYNCCTL_HTTP__ADMIN__TOKEN: 'admin-TOPSECRET-token' },
    });
    assert.equal(r.exitCode, 0, String(r.stderr));
    const out = String(r.stdout);
    assert.ok(!out.includes('shpat_TOPSECRET'), 'token leaked');
    assert.ok(!out.includes('admin-TOPSECRET-token'), 'admin token leaked');
    assert.equal(r.json.result.config.http.admin.token, '***redacted***');
    assert.ok(!out.includes('hunter2'), 'password leaked');
    assert.equal(r.json.result.config.sources.shopify.main.accessToken, '***redacted***');
  });

  it('exits 2 with one clear line for an unknown flag', async () => {
    const r = await runCli(['config', 'show', '--bogus']);
    assert.equal(r.exitCode, 2);
    assert.match(String(r.stderr), /Nonexistent flag: --bogus/);
    assert.doesNotMatch(String(r.stderr), /\n\s+at /, 'no stack trace');
  });

  it('exits 2 and names the key for a bad config value, without a stack trace', async () => {
    const r = await runCli(['config', 'validate'], { env: { SYNCCTL_KAFKA_BROKERS: 'no-port' } });
    assert.equal(r.exitCode, 2);
    assert.match(String(r.stderr), /kafka\.brokers\.0: must be host:port \(from env SYNCCTL_KAFKA_BROKERS\)/);
    assert.doesNotMatch(String(r.stderr), /\n\s+at /);
  });

  it('exits 2 for a --config file that does not exist', async () => {
    const r = await runCli(['config', 'validate', '--config', '/nonexistent/syncctl.yml', '--json']);
    assert.equal(r.exitCode, 2);
    assert.equal(r.json.error.code, 'CONFIG_NOT_FOUND');
  });

  it('exits 3 and says how to fix it when PostgreSQL is unreachable', async () => {
    const r = await runCli(['init-db', '--json'], { env: { SYNCCTL_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x' } });
    assert.equal(r.exitCode, 3);
    assert.equal(r.json.error.code, 'SERVICE_UNAVAILABLE');
    assert.match(r.json.error.hint, /database\.url/);
  });

  it('shows the stack trace of a failure only with --log-level debug', async () => {
    const r = await runCli(['init-db', '--log-level', 'debug'], { env: { SYNCCTL_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x' } });
    assert.equal(r.exitCode, 3);
    assert.match(String(r.stderr), /\n\s+at /);
  });
});
