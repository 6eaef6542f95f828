import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { renderStack } from '../cli/render.js';
import { stackUp } from '../stack/manager.js';
import { initDb } from '../services/init-db.js';
import { collectStatus, type StatusReport } from '../services/status.js';

/** The README's main job. For now: brings up the stack, initialises the database, prints the status. */
export default class Demo extends BaseCommand<typeof Demo> {
  static override summary = 'Run the demo: local stack, simulated stores and ERP, the sync daemon, a live view, a final diff.';
  static override description =
    'This version brings the local stack up (PostgreSQL, Redis, Kafka), initialises the database and topics, and prints the status. The simulated stores, the daemon and the live view arrive with the operator-commands issue.';
  static override examples = ['<%= config.bin %> demo', '<%= config.bin %> demo --duration 60 --json'];
  static override logLevelFromConfig = false;
  static override flags = {
    duration: Flags.integer({ description: 'Run for this many seconds, then stop and summarise (non-interactive).', min: 1 }),
  };

  public async run(): Promise<{ status: StatusReport }> {
    const { config } = await this.loadConfig();
    const say = (s: string) => !this.jsonEnabled() && process.stderr.write(`${s}\n`);
    say('Starting the local stack (first run downloads pinned jars from Maven Central)...');
    const components = await stackUp(config, {});
    if (!this.jsonEnabled()) this.log(renderStack(components));
    say('Initialising the database and Kafka topics...');
    const db = await initDb(config);
    say(db.upToDate ? 'Database already up to date.' : `Applied: ${db.applied.join(', ') || '-'}; topics created: ${db.topics.created.length}`);
    const status = await collectStatus(config);
    if (!status.healthy) this.setFindings();
    if (!this.jsonEnabled()) this.log(status.healthy ? 'Everything is up. Next: `syncctl status`.' : `Unhealthy: ${status.problems.join('; ')}`);
    return { status };
  }
}
