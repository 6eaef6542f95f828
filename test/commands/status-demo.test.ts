import { strict as assert } from 'node:assert';
import { execSync } from 'node:child_process';
import { isolate, type Isolation } from '../support/isolation.js';
import { cliEnv, runCli, REPO_ROOT } from '../support/cli.js';

describe('syncctl status (the CLI against the real stack)', function () {
  this.timeout(120_000);
  let iso: Isolation;
  before(async () => {
    execSync('npm run build --silent', { cwd: REPO_ROOT, stdio: 'ignore' });
    iso = await isolate('cli_status');
  });
  after(async () => iso?.cleanup());

  it('reports the components, the database state and the consumer lag as JSON, exit 0 when healthy', async () => {
    const r = await runCli(['status', '--json'], { env: cliEnv(iso.config) });
    assert.equal(r.exitCode, 0, String(r.stdout) + String(r.stderr));
    const s = r.json.result;
    assert.equal(s.healthy, true);
    assert.equal(s.database.migrated, true);
    assert.equal(s.database.openDeadLetters, 0);
    assert.ok(s.components.some((c: { component: string; ready: boolean }) => c.component === 'kafka' && c.ready));
    assert.ok(Array.isArray(s.consumerLag));
  });

  it('exits 1 and says what to do when the database is not initialised', async () => {
    const r = await runCli(['status', '--json'], { env: { ...cliEnv(iso.config), SYNCCTL_DATABASE__SCHEMA: 'never_initialised' } });
    assert.equal(r.exitCode, 1);
    assert.ok(r.json.result.problems.some((p: string) => /syncctl init-db/.test(p)));
  });

  it('exits 1 when a required service is down (usable as a probe)', async () => {
    const r = await runCli(['status', '--json'], { env: { ...cliEnv(iso.config), SYNCCTL_REDIS_URL: 'redis://127.0.0.1:1/0', SYNCCTL_STACK__MANAGE_SERVICES: 'false' } });
    assert.equal(r.exitCode, 1);
    assert.ok(r.json.result.problems.some((p: string) => /redis is down/.test(p)));
  });
});

describe('syncctl demo (the README\'s main job, non-interactive)', function () {
  this.timeout(600_000);

  it('runs the stack, simulated stores, the ERP and the daemon with live traffic, and reports converged channels', async () => {
    const r = await runCli(['demo', '--duration', '10', '--products', '8', '--orders-per-second', '2', '--json'], { timeoutMs: 540_000 });
    assert.equal(r.exitCode, 0, `exit ${r.exitCode}: ${String(r.stdout).slice(0, 2000)} ${String(r.stderr).slice(-2000)}`);
    const s = r.json.result;
    assert.equal(s.converged, true, JSON.stringify(s.convergence));
    assert.ok(s.eventsProcessed > 0);
    assert.ok(s.convergence.channels.length >= 3);
    for (const c of s.convergence.channels) assert.ok(c.compared > 0, `${c.channel} compared nothing`);
  });
});
