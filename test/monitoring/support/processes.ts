import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { AM_CONFIG, loadRules, PROM_DIR, waitFor } from './monitoring-files.js';

/** Starts a monitoring binary (prometheus, prometheus-alertmanager) with its output in `logFile`. */
export function startProcess(cmd: string, args: string[], logFile: string): ChildProcess {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile);
  p.stdout?.pipe(log);
  p.stderr?.pipe(log);
  return p;
}

/** SIGTERM, then SIGKILL after 10 s; resolves once the process has exited. */
export async function stopProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts Prometheus and Alertmanager for a live test: the real recording and alert rules (alerts
 * with a short `for`), scraping `daemonPort` every second, and the real Alertmanager routing
 * with short timings and every receiver pointed at the daemon's `/alerts`. `daemonPort` is the
 * daemon's admin listener; `token` (its http.admin.token) is sent by both as a bearer token read
 * from `syncctl-admin-token`, as the shipped configurations do. Resolves once both answer
 * `/-/ready`; returns the processes (stop them with {@link stopProcess}).
 */
export async function startMonitoring(o: { dir: string; daemonPort: number; promPort: number; amPort: number; alertFor: string; token?: string }): Promise<ChildProcess[]> {
  const { dir, daemonPort, promPort, amPort } = o;
  writeFileSync(join(dir, 'syncctl-admin-token'), o.token ?? '', { mode: 0o600 });
  copyFileSync(join(PROM_DIR, 'recording-rules.yml'), join(dir, 'recording-rules.yml'));
  const groups = loadRules('alert-rules.yml').map((g) => ({ ...g, rules: g.rules.map((r) => ({ ...r, for: o.alertFor })) }));
  writeFileSync(join(dir, 'alert-rules.yml'), stringify({ groups }));
  writeFileSync(join(dir, 'prometheus.yml'), stringify({
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: ['recording-rules.yml', 'alert-rules.yml'],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] },
    scrape_configs: [{ job_name: 'syncctl', authorization: { type: 'Bearer', credentials_file: 'syncctl-admin-token' }, static_configs: [{ targets: [`127.0.0.1:${daemonPort}`] }] }],
  }));
  const am = parse(readFileSync(AM_CONFIG, 'utf8')) as { route: Record<string, unknown> & { routes: Array<Record<string, unknown>> }; receivers: Array<{ webhook_configs: Array<{ url: string }> }> };
  for (const r of [am.route, ...am.route.routes]) Object.assign(r, { group_wait: '500ms', group_interval: '1s' });
  for (const rcv of am.receivers) for (const w of rcv.webhook_configs) w.url = `http://127.0.0.1:${daemonPort}/alerts`;
  writeFileSync(join(dir, 'alertmanager.yml'), stringify(am));
  const procs = [
    startProcess('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'prom-data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--rules.alert.resend-delay=1s'], join(dir, 'prometheus.log')),
    startProcess('prometheus-alertmanager', [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'am-data')}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address='], join(dir, 'alertmanager.log')),
  ];
  await waitFor('Prometheus ready', async () => ((await fetch(`http://127.0.0.1:${promPort}/-/ready`)).ok ? true : undefined), 30_000);
  await waitFor('Alertmanager ready', async () => ((await fetch(`http://127.0.0.1:${amPort}/-/ready`)).ok ? true : undefined), 30_000);
  return procs;
}
