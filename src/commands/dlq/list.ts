import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { table } from '../../cli/render.js';
import { ConfigError } from '../../core/errors.js';
import type { DeadLetter } from '../../db/dead-letters.js';
import { listDeadLetters } from '../../services/dlq.js';

/** Lists dead letters. */
export default class DlqList extends BaseCommand<typeof DlqList> {
  static override summary = 'List dead letters (events and writes that failed permanently or ran out of retries).';
  static override examples = ['<%= config.bin %> dlq list', '<%= config.bin %> dlq list --source shopify:main --since 2026-11-25T00:00:00Z --json', '<%= config.bin %> dlq list --status all'];
  static override flags = {
    source: Flags.string({ description: 'Only this source or target (shopify, shopify:main, erp...).' }),
    stage: Flags.string({ description: 'Only this stage (intake, transform, sync, write).' }),
    code: Flags.string({ description: 'Only this error code.' }),
    since: Flags.string({ description: 'Only failures since this time (ISO 8601).' }),
    status: Flags.string({ description: 'Status to list.', options: ['OPEN', 'REPLAYED', 'SUPERSEDED', 'DISCARDED', 'all'], default: 'OPEN' }),
    limit: Flags.integer({ description: 'At most this many rows.', default: 100, min: 1 }),
  };

  public async run(): Promise<{ deadLetters: DeadLetter[] }> {
    const since = this.flags.since ? new Date(this.flags.since) : undefined;
    if (since && Number.isNaN(since.getTime())) throw new ConfigError('USAGE', `--since: "${this.flags.since}" is not a date (ISO 8601).`);
    const deadLetters = await listDeadLetters(await (await this.resources()).pool(), { source: this.flags.source, stage: this.flags.stage, code: this.flags.code, since, status: this.flags.status as DeadLetter['status'] | 'all', limit: this.flags.limit });
    if (!this.jsonEnabled()) {
      if (deadLetters.length === 0) this.log('No dead letters.');
      else this.log(table(['ID', 'STAGE', 'SOURCE', 'SKU', 'CODE', 'ATTEMPTS', 'LAST FAILURE', 'STATUS'], deadLetters.map((d) => [d.deadLetterId, d.stage, d.sourceKey ?? '', d.sku ?? '', d.errorCode, String(d.attempts), d.lastFailedAt, d.status])));
    }
    return { deadLetters };
  }
}
