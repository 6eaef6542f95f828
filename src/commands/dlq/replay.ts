import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { table } from '../../cli/render.js';
import { ConfigError } from '../../core/errors.js';
import { getDeadLetter, listDeadLetters, replayDeadLetters, type ReplayOutcome } from '../../services/dlq.js';

/** Replays dead letters through the pipeline. */
export default class DlqReplay extends BaseCommand<typeof DlqReplay> {
  static override summary = 'Replay dead letters through the engine: replayed, superseded (newer state exists) or failed again.';
  static override examples = ['<%= config.bin %> dlq replay 5b1c... --wait', '<%= config.bin %> dlq replay --all --dry-run', '<%= config.bin %> dlq replay --all --source woocommerce:outlet --code WOO_HTTP_503'];
  static override args = { id: Args.string({ description: 'Dead-letter id (or use --all with filters).' }) };
  static override flags = {
    all: Flags.boolean({ description: 'Replay every open dead letter matching the filters.' }),
    source: Flags.string({ description: 'Filter by source or target.' }),
    stage: Flags.string({ description: 'Filter by stage.' }),
    code: Flags.string({ description: 'Filter by error code.' }),
    'dry-run': Flags.boolean({ description: 'Say what would be replayed or skipped; change nothing.' }),
    wait: Flags.boolean({ description: 'Wait (up to 30 s) for the writers\' verdict on replayed writes (needs `syncctl start` running).' }),
  };

  public async run(): Promise<{ outcomes: ReplayOutcome[]; summary: Record<string, number> }> {
    if (!this.args.id && !this.flags.all) throw new ConfigError('USAGE', 'Give a dead-letter id, or --all (with filters).');
    const res = await this.resources();
    const pool = await res.pool();
    const list = this.args.id ? [await getDeadLetter(pool, this.args.id)] : await listDeadLetters(pool, { source: this.flags.source, stage: this.flags.stage, code: this.flags.code, limit: 100_000 });
    const { config } = await this.loadConfig();
    const transform = config.transform.runner === 'embedded' ? { skuRule: config.identity.sku } : undefined;
    const outcomes = await replayDeadLetters(pool, res.kafka(), res.topics, list, { dryRun: this.flags['dry-run'], waitMs: this.flags.wait ? 30_000 : 0, transform });
    const summary: Record<string, number> = {};
    for (const o of outcomes) summary[o.outcome] = (summary[o.outcome] ?? 0) + 1;
    if (outcomes.some((o) => o.outcome === 'failed')) this.setFindings();
    if (!this.jsonEnabled()) {
      if (outcomes.length === 0) this.log('Nothing to replay.');
      else this.log(table(['ID', 'STAGE', 'SKU', 'OUTCOME', 'DETAIL'], outcomes.map((o) => [o.deadLetterId, o.stage, o.sku ?? '', o.outcome, o.detail ?? ''])));
      this.log(Object.entries(summary).map(([k, v]) => `${k}: ${v}`).join(', '));
    }
    return { outcomes, summary };
  }
}
