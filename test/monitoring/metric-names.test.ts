import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMetricsRegistry } from '../../src/monitoring/metrics.js';
import { dashboardSchema } from './support/grafana-dashboard-schema.js';
import { alertRules, dashboardQueries, loadDashboards, recordingRules, REPO } from './support/monitoring-files.js';
import { promqlMetricNames } from './support/promql.js';

/** Series Prometheus itself creates, which a rule or dashboard may select. */
const PROMETHEUS_SERIES = new Set(['up', 'ALERTS', 'ALERTS_FOR_STATE', 'scrape_duration_seconds', 'scrape_samples_scraped']);

/** Every series name the daemon's registry can expose (histograms expand to _bucket/_sum/_count). */
async function exportedNames(): Promise<Set<string>> {
  const registry = createMetricsRegistry();
  const names = new Set<string>();
  for (const m of await registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
    if (String(m.type) === 'summary') for (const s of ['_sum', '_count']) names.add(m.name + s);
  }
  registry.clear();
  return names;
}

describe('Metric names used by rules and dashboards', () => {
  let exported: Set<string>;
  const recorded = new Set(recordingRules().map((r) => r.record!));

  before(async () => {
    exported = await exportedNames();
  });

  it('finds metric names in PromQL (functions, keywords, labels, durations and numbers excluded)', () => {
    assert.deepEqual(
      promqlMetricNames('sum by (source, le) (rate(a_total{x="y:z"}[5m] offset 1h)) / on (s) group_left (t) b:c > 1.5e9 and bool vector(1) or histogram_quantile(0.9, d_bucket)'),
      ['a_total', 'b:c', 'd_bucket'],
    );
  });

  it('exports every metric a recording rule reads', () => {
    for (const r of recordingRules()) {
      for (const name of promqlMetricNames(r.expr)) {
        assert.ok(exported.has(name) || recorded.has(name), `recording rule ${r.record} reads ${name}, which the daemon does not export`);
      }
    }
  });

  it('exports every metric an alert reads (or a recording rule provides it)', () => {
    for (const r of alertRules()) {
      const names = promqlMetricNames(r.expr);
      assert.ok(names.length > 0, `${r.alert}: no metric found in ${r.expr}`);
      for (const name of names) {
        assert.ok(exported.has(name) || recorded.has(name) || PROMETHEUS_SERIES.has(name), `alert ${r.alert} reads ${name}, which nothing exports`);
      }
    }
  });

  it('exports every metric a dashboard panel or variable reads', () => {
    const queries = dashboardQueries();
    assert.ok(queries.length >= 40, `only ${queries.length} panel queries found`);
    for (const q of queries) {
      const names = promqlMetricNames(q.expr);
      assert.ok(names.length > 0, `${q.dashboard} / ${q.panel}: no metric in ${q.expr}`);
      for (const name of names) {
        assert.ok(exported.has(name) || recorded.has(name) || PROMETHEUS_SERIES.has(name), `${q.dashboard} / ${q.panel} reads ${name}, which nothing exports`);
      }
    }
    for (const d of loadDashboards()) {
      const vars = ((d.json.templating as { list?: Array<{ definition?: string }> } | undefined)?.list ?? []).filter((v) => v.definition);
      for (const v of vars) {
        const m = /^label_values\((\w+),\s*(\w+)\)$/.exec(v.definition!);
        assert.ok(m, `${d.file}: unexpected variable query ${v.definition}`);
        assert.ok(exported.has(m[1]!), `${d.file}: variable reads ${m[1]}, which the daemon does not export`);
      }
    }
  });

  it('documents every exported syncctl metric in docs/metrics.md', () => {
    const doc = readFileSync(join(REPO, 'docs/metrics.md'), 'utf8');
    for (const name of exported) {
      if (/_(bucket|sum|count)$/.test(name) && exported.has(name.replace(/_(bucket|sum|count)$/, ''))) continue;
      if (name.startsWith('syncctl_process_') || name.startsWith('syncctl_nodejs_')) continue; // default metrics: documented as a family
      assert.ok(doc.includes(`\`${name}\``), `docs/metrics.md does not document ${name}`);
    }
  });
});

describe('Grafana dashboards', () => {
  for (const d of loadDashboards()) {
    it(`${d.file} validates against the Grafana dashboard schema`, () => {
      const r = dashboardSchema.safeParse(d.json);
      assert.ok(r.success, r.success ? '' : JSON.stringify(r.error.issues.slice(0, 5), null, 2));
    });
  }

  it('gives every panel a unique id, a grid position inside 24 columns and non-overlapping placement', () => {
    for (const d of loadDashboards()) {
      const panels = (d.json.panels ?? []) as Array<{ id: number; gridPos: { x: number; y: number; w: number; h: number } }>;
      const ids = panels.map((p) => p.id);
      assert.equal(new Set(ids).size, ids.length, `${d.file}: duplicate panel ids`);
      for (const [i, a] of panels.entries()) {
        assert.ok(a.gridPos.x + a.gridPos.w <= 24, `${d.file}: panel ${a.id} goes past column 24`);
        for (const b of panels.slice(i + 1)) {
          const overlap = a.gridPos.x < b.gridPos.x + b.gridPos.w && b.gridPos.x < a.gridPos.x + a.gridPos.w && a.gridPos.y < b.gridPos.y + b.gridPos.h && b.gridPos.y < a.gridPos.y + a.gridPos.h;
          assert.ok(!overlap, `${d.file}: panels ${a.id} and ${b.id} overlap`);
        }
      }
    }
  });

  it('has an overview, a per-source dashboard with a source variable, and an infrastructure dashboard', () => {
    const byUid = new Map(loadDashboards().map((d) => [d.json.uid, d.json]));
    assert.ok(byUid.has('syncctl-overview') && byUid.has('syncctl-infrastructure'));
    const source = byUid.get('syncctl-source') as { templating: { list: Array<{ name: string }> } } | undefined;
    assert.ok(source?.templating.list.some((v) => v.name === 'source'));
  });
});
