import { Flags } from '@oclif/core';
import chalk from 'chalk';
import { BaseCommand } from '../cli/base-command.js';
import { renderStack, table } from '../cli/render.js';
import { collectStatus, type StatusReport } from '../services/status.js';

/** Credentials, API version and webhook subscriptions of a Shopify store, on one line. */
function shopifyDetail(d: Record<string, unknown>): string {
  const parts: string[] = [];
  const auth = d.auth as { mode: string; state: string } | undefined;
  if (auth) parts.push(auth.state === 'refused' ? chalk.red(`${auth.mode} REFUSED`) : auth.mode);
  if (d.apiVersion) parts.push(`API ${String(d.apiVersion)}`);
  const subs = d.subscriptions as Array<{ topic: string; state: string }> | undefined;
  if (subs) {
    const by = (st: string) => subs.filter((x) => x.state === st).map((x) => x.topic);
    parts.push(`webhooks: ${by('registered').length} registered`);
    if (by('re-registered').length) parts.push(chalk.yellow(`re-registered ${by('re-registered').join(',')}`));
    if (by('missing').length) parts.push(chalk.red(`missing ${by('missing').join(',')}`));
  }
  return parts.join(', ');
}

/** One screen with the health of everything; exit 1 when something is unhealthy (usable as a probe). */
export default class Status extends BaseCommand<typeof Status> {
  static override summary = 'Show the health of the stack, the sources and the sync state (exit 1 when unhealthy).';
  static override description =
    'Per source: last event and poll; WooCommerce webhook states; for each Shopify store its credentials (a refused client credentials grant or token is a problem), ' +
    'API version (warned about 90 days before its end of support) and webhook subscriptions (registered / re-registered / missing); the ERP capture. See docs/operations.md.';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json', '<%= config.bin %> status --watch'];
  static override flags = {
    watch: Flags.boolean({ char: 'w', description: 'Refresh every 2 seconds until Ctrl-C.' }),
  };

  public async run(): Promise<StatusReport> {
    const { config } = await this.loadConfig();
    let report = await collectStatus(config);
    if (this.flags.watch && !this.jsonEnabled()) {
      const stop = this.waitForShutdown();
      let stopped = false;
      void stop.then(() => (stopped = true));
      while (!stopped) {
        process.stdout.write('\x1b[2J\x1b[H' + this.render(report) + '\n');
        await Promise.race([stop, new Promise((r) => setTimeout(r, 2000))]);
        if (!stopped) report = await collectStatus(config);
      }
    } else if (!this.jsonEnabled()) this.log(this.render(report));
    if (!report.healthy) this.setFindings();
    return report;
  }

  private render(r: StatusReport): string {
    const db = r.database;
    const ago = (iso: string | null) => (iso ? `${Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))} s ago` : 'never');
    const state = table(
      ['STATE', 'VALUE'],
      [
        ['database', db.reachable ? (db.migrated ? chalk.green('ok') : chalk.yellow('not initialised')) : chalk.red('unreachable')],
        ['open conflicts', String(db.openConflicts ?? '-')],
        ['open dead letters', String(db.openDeadLetters ?? '-')],
        ['events not yet published', String(db.unpublishedEvents ?? '-')],
        ['writes pending', String(db.pendingWrites ?? '-')],
        ...r.consumerLag.map((c) => [`consumer lag ${c.group}`, String(c.lag)]),
        ['sync latency of changes (15 min)', r.latency.writes ? `p50 ${r.latency.p50Ms} ms, p99 ${r.latency.p99Ms} ms over ${r.latency.writes} writes` : 'no writes'],
      ],
    );
    const sources = r.sources.length
      ? table(
          ['SOURCE', 'LAST EVENT', 'LAST POLL', 'DETAIL'],
          r.sources.map((s) => [
            s.source,
            ago(s.lastEventAt),
            s.source === 'erp' ? 'CDC' : s.pollStale ? chalk.yellow(ago(s.lastPollAt)) : ago(s.lastPollAt),
            s.detail.webhooks
              ? (s.detail.webhooks as Array<{ topic: string; status: string }>).map((w) => `${w.topic}=${w.status}`).join(' ')
              : s.source.startsWith('shopify:')
                ? shopifyDetail(s.detail)
              : s.detail.cdc
                ? `connector ${(s.detail.cdc as { state: string }).state}, slot lag ${(s.detail.cdc as { slot: { lagBytes: number | null } | null }).slot?.lagBytes ?? '?'} B`
                : '',
          ]),
        )
      : 'No sources configured.';
    const drift = r.drift.length ? '\n\n' + table(['DRIFT PAIR', 'CHECKED', 'SKUS DIFFERING'], r.drift.map((d) => [d.pair, ago(d.at), d.ok ? Object.entries(d.kinds).map(([k, v]) => `${k}=${v}`).join(' ') || 'none' : chalk.red(d.error?.message ?? 'failed')])) : '';
    const verdict = r.healthy ? chalk.green('healthy') : chalk.red(`unhealthy:\n  - ${r.problems.join('\n  - ')}`);
    const warn = r.warnings.length ? `\n${chalk.yellow('warnings:')}\n  - ${r.warnings.join('\n  - ')}` : '';
    return `${renderStack(r.components)}\n\n${sources}\n\n${state}${drift}\n\n${verdict}${warn}`;
  }
}
