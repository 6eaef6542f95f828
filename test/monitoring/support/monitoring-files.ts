import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';

/** The repository root. */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const PROM_DIR = join(REPO, 'monitoring/prometheus');
export const AM_CONFIG = join(REPO, 'monitoring/alertmanager/alertmanager.yml');
export const DASHBOARD_DIR = join(REPO, 'monitoring/grafana/dashboards');

const exec = promisify(execFile);

/** Installs promtool, amtool, prometheus and alertmanager with the project's script (no-op when present). */
export async function installMonitoringTools(): Promise<void> {
  await exec('bash', [join(REPO, 'scripts/monitoring/install.sh')], { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 });
}

/** Runs a tool; resolves with its output whatever the exit code. */
export async function run(cmd: string, args: string[], cwd = REPO): Promise<{ code: number; out: string }> {
  try {
    const r = await exec(cmd, args, { cwd, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** One rule of a Prometheus rule file. */
export interface RuleDef {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The groups of a rule file. */
export function loadRules(file: string): Array<{ name: string; interval?: string; rules: RuleDef[] }> {
  return (parse(readFileSync(join(PROM_DIR, file), 'utf8')) as { groups: Array<{ name: string; interval?: string; rules: RuleDef[] }> }).groups;
}

/** Every alerting rule. */
export const alertRules = (): RuleDef[] => loadRules('alert-rules.yml').flatMap((g) => g.rules);
/** Every recording rule. */
export const recordingRules = (): RuleDef[] => loadRules('recording-rules.yml').flatMap((g) => g.rules);

/** The promtool unit test files. */
export const ruleTestFiles = (): string[] =>
  readdirSync(join(PROM_DIR, 'tests')).filter((f) => f.endsWith('.yml')).map((f) => join(PROM_DIR, 'tests', f));

/** The dashboards, by file name. */
export function loadDashboards(): Array<{ file: string; json: Record<string, unknown> }> {
  return readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((file) => ({ file, json: JSON.parse(readFileSync(join(DASHBOARD_DIR, file), 'utf8')) as Record<string, unknown> }));
}

/** A dashboard panel's PromQL targets. */
export interface PanelQuery {
  dashboard: string;
  panel: string;
  expr: string;
}

/** Every PromQL expression of every panel (rows included) of the dashboards. */
export function dashboardQueries(): PanelQuery[] {
  const out: PanelQuery[] = [];
  type P = { title?: string; type?: string; targets?: Array<{ expr?: string }>; panels?: P[] };
  const walk = (dashboard: string, panels: P[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ dashboard, panel: p.title ?? '?', expr: t.expr });
      if (p.panels) walk(dashboard, p.panels);
    }
  };
  for (const d of loadDashboards()) walk(d.file, (d.json.panels ?? []) as P[]);
  return out;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `fn` until it returns a value other than undefined, or throws after `timeoutMs` with `what`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
