import { Flags } from '@oclif/core';
import chalk from 'chalk';
import { BaseCommand } from '../cli/base-command.js';
import { renderStack, table } from '../cli/render.js';
import { collectStatus, type StatusReport } from '../services/status.js';

/** One screen with the health of everything; exit 1 when something is unhealthy (usable as a probe). */
export default class Status extends BaseCommand<typeof Status> {
  static override summary = 'Show the health of the stack, the sources and the sync state (exit 1 when unhealthy).';
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
    const state = table(
      ['STATE', 'VALUE'],
      [
        ['database', db.reachable ? (db.migrated ? chalk.green('ok') : chalk.yellow('not initialised')) : chalk.red('unreachable')],
        ['open conflicts', String(db.openConflicts ?? '-')],
        ['open dead letters', String(db.openDeadLetters ?? '-')],
        ['events not yet published', String(db.unpublishedEvents ?? '-')],
      ],
    );
    const verdict = r.healthy ? chalk.green('healthy') : chalk.red(`unhealthy:\n  - ${r.problems.join('\n  - ')}`);
    return `${renderStack(r.components)}\n\n${state}\n\n${verdict}`;
  }
}
