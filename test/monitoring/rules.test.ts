import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { alertRules, AM_CONFIG, installMonitoringTools, PROM_DIR, REPO, ruleTestFiles, run } from './support/monitoring-files.js';

describe('Prometheus rules and Alertmanager configuration', function () {
  this.timeout(120_000);

  before(async function () {
    this.timeout(600_000); // first run installs Debian's prometheus + prometheus-alertmanager
    await installMonitoringTools();
  });

  it('passes promtool check rules', async () => {
    const r = await run('promtool', ['check', 'rules', join(PROM_DIR, 'recording-rules.yml'), join(PROM_DIR, 'alert-rules.yml')]);
    assert.equal(r.code, 0, r.out);
  });

  it('passes promtool check config for the local prometheus.yml (rule files included, next to the admin token file prometheus.sh writes)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syncctl-promcheck-'));
    try {
      for (const f of ['prometheus.yml', 'recording-rules.yml', 'alert-rules.yml']) copyFileSync(join(PROM_DIR, f), join(dir, f));
      writeFileSync(join(dir, 'syncctl-admin-token'), 'a-long-enough-admin-token', { mode: 0o600 });
      const r = await run('promtool', ['check', 'config', join(dir, 'prometheus.yml')]);
      assert.equal(r.code, 0, r.out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes every promtool unit test (promtool test rules)', async () => {
    const r = await run('promtool', ['test', 'rules', ...ruleTestFiles()], join(PROM_DIR, 'tests'));
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS/);
  });

  it('passes amtool check-config for alertmanager.yml', async () => {
    const r = await run('amtool', ['check-config', AM_CONFIG]);
    assert.equal(r.code, 0, r.out);
  });

  it('routes critical alerts to the pager receiver and warnings to the ticket receiver', async () => {
    const critical = await run('amtool', ['config', 'routes', 'test', `--config.file=${AM_CONFIG}`, 'severity=critical', 'alertname=SyncctlDown']);
    const warning = await run('amtool', ['config', 'routes', 'test', `--config.file=${AM_CONFIG}`, 'severity=warning', 'alertname=SyncctlPollerStale']);
    assert.equal(critical.out.split('\n')[0]?.trim(), 'syncctl-pages', critical.out);
    assert.equal(warning.out.split('\n')[0]?.trim(), 'syncctl-tickets', warning.out);
  });

  it('gives every alert a severity, a summary, a description and a runbook anchor that exists in the runbooks', () => {
    const runbooks = readFileSync(join(REPO, 'docs/operations.md'), 'utf8');
    const anchors = new Set([...runbooks.matchAll(/^#{2,4} (.+)$/gm)].map((m) => githubAnchor(m[1]!)));
    for (const r of alertRules()) {
      assert.ok(['critical', 'warning'].includes(r.labels?.severity ?? ''), `${r.alert}: severity`);
      assert.ok(r.annotations?.summary, `${r.alert}: summary`);
      assert.ok(r.annotations?.description, `${r.alert}: description`);
      const url = r.annotations?.runbook_url ?? '';
      assert.equal(url, `docs/operations.md#alert-${r.alert!.toLowerCase()}`, `${r.alert}: runbook_url`);
      assert.ok(anchors.has(url.split('#')[1]!), `${r.alert}: no heading for #${url.split('#')[1]} in docs/operations.md`);
    }
  });

  it('has a promtool test where each alert fires and one where it stays quiet', () => {
    const firing = new Set<string>();
    const quiet = new Set<string>();
    for (const f of ruleTestFiles()) {
      const doc = parse(readFileSync(f, 'utf8')) as { tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }> };
      for (const t of doc.tests) for (const a of t.alert_rule_test ?? []) (a.exp_alerts?.length ? firing : quiet).add(a.alertname);
    }
    for (const name of new Set(alertRules().map((r) => r.alert!))) {
      assert.ok(firing.has(name), `${name} has no firing test`);
      assert.ok(quiet.has(name), `${name} has no not-firing test`);
    }
  });
});

/** The anchor GitHub gives a Markdown heading. */
function githubAnchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-');
}
