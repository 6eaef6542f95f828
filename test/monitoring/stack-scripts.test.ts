import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, installMonitoringTools, REPO, run } from './support/monitoring-files.js';

/** Runs a monitoring stack script with env; returns its last stdout line parsed as JSON. */
async function script(name: string, action: string, env: Record<string, string>): Promise<Record<string, unknown>> {
  const r = await runEnv('bash', [join(REPO, 'scripts/monitoring', `${name}.sh`), action], env);
  assert.equal(r.code, 0, r.out);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

async function runEnv(cmd: string, args: string[], env: Record<string, string>): Promise<{ code: number; out: string; stdout: string }> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr, stdout }),
    );
  });
}

describe('Monitoring stack scripts (scripts/monitoring)', function () {
  this.timeout(120_000);
  let stackDir: string;
  let env: Record<string, string>;

  before(async function () {
    this.timeout(600_000);
    await installMonitoringTools();
    stackDir = mkdtempSync(join(tmpdir(), 'syncctl-monstack-'));
    env = { STACK_DIR: stackDir, PROMETHEUS_PORT: String(await freePort()), ALERTMANAGER_PORT: String(await freePort()), SYNCCTL_METRICS_TARGET: '127.0.0.1:1', SYNCCTL_ALERTS_URL: 'http://127.0.0.1:1/alerts' };
  });
  after(async () => {
    await runEnv('bash', [join(REPO, 'scripts/monitoring/prometheus.sh'), 'down'], env);
    await runEnv('bash', [join(REPO, 'scripts/monitoring/alertmanager.sh'), 'down'], env);
    rmSync(stackDir, { recursive: true, force: true });
  });

  it('install.sh is silent and succeeds when everything is installed', async () => {
    const r = await run('bash', [join(REPO, 'scripts/monitoring/install.sh')]);
    assert.equal(r.code, 0, r.out);
    assert.equal(r.out, '');
  });

  it('starts Prometheus and Alertmanager on the given ports, reports them, and stops them', async () => {
    const prom = await script('prometheus', 'up', env);
    const am = await script('alertmanager', 'up', env);
    assert.deepEqual([prom.component, prom.running, prom.ready, prom.port], ['prometheus', true, true, Number(env.PROMETHEUS_PORT)]);
    assert.deepEqual([am.component, am.running, am.ready, am.port], ['alertmanager', true, true, Number(env.ALERTMANAGER_PORT)]);
    // The rendered configuration uses this stack's ports and loads the rules.
    const rendered = readFileSync(join(stackDir, 'prometheus/prometheus.yml'), 'utf8');
    assert.match(rendered, new RegExp(`127\\.0\\.0\\.1:${env.ALERTMANAGER_PORT}`));
    const rules = (await (await fetch(`http://127.0.0.1:${env.PROMETHEUS_PORT}/api/v1/rules`)).json()) as { data: { groups: unknown[] } };
    assert.ok(rules.data.groups.length >= 7);
    assert.match(readFileSync(join(stackDir, 'alertmanager/alertmanager.yml'), 'utf8'), /http:\/\/127\.0\.0\.1:1\/alerts/);
    // up is idempotent.
    assert.equal((await script('prometheus', 'up', env)).pid, prom.pid);

    const promDown = await script('prometheus', 'down', env);
    const amDown = await script('alertmanager', 'down', env);
    assert.equal(promDown.running, false);
    assert.equal(amDown.running, false);
    assert.equal((await script('prometheus', 'status', env)).ready, false);
  });
});
