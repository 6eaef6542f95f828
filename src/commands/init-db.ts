import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { initDb, type InitDbResult } from '../services/init-db.js';

/** Creates or upgrades syncctl's database and Kafka topics. */
export default class InitDb extends BaseCommand<typeof InitDb> {
  static override summary = 'Create the database (if missing), apply pending migrations and create the Kafka topics.';
  static override description =
    'Migrations are numbered SQL files applied in one transaction under an advisory lock and recorded in syncctl_migrations. Running it again changes nothing and says so. Topics are created only when Kafka is reachable.';
  static override examples = ['<%= config.bin %> init-db', '<%= config.bin %> init-db --dry-run', 'SYNCCTL_DATABASE_URL=postgres://sync@db/syncctl <%= config.bin %> init-db --json'];
  static override flags = {
    'dry-run': Flags.boolean({ description: 'Print the pending SQL and change nothing.' }),
    'skip-topics': Flags.boolean({ description: 'Do not create Kafka topics.' }),
  };

  public async run(): Promise<InitDbResult> {
    const { config } = await this.loadConfig();
    const r = await initDb(config, { dryRun: this.flags['dry-run'], skipTopics: this.flags['skip-topics'] });
    if (r.topics.skipped && !this.flags['dry-run'] && !this.flags['skip-topics']) this.warnUser(r.topics.skipped);
    if (r.changedSinceApplied.length) this.warnUser(`applied migrations changed since: ${r.changedSinceApplied.join(', ')}`);
    if (this.jsonEnabled()) return r;
    if (this.flags['dry-run']) {
      if (r.pending.length === 0) this.log(`Database ${r.database} (schema ${r.schema}) is up to date: nothing to apply.`);
      for (const m of r.pending) this.log(`-- ${m.name}\n${m.sql}`);
      return r;
    }
    if (r.createdDatabase) this.log(`Created database ${r.database}.`);
    if (r.applied.length) this.log(`Applied ${r.applied.length} migration(s) to schema ${r.schema}: ${r.applied.join(', ')}.`);
    if (r.topics.created.length) this.log(`Created Kafka topics: ${r.topics.created.join(', ')}.`);
    if (r.upToDate) this.log(`Database ${r.database} (schema ${r.schema}) and topics are up to date: nothing changed.`);
    return r;
  }
}
