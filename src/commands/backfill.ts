import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { PhaseProgress } from '../cli/progress.js';
import { ConfigError } from '../core/errors.js';
import { backfillPhases, runBackfill, type BackfillResult } from '../services/backfill/index.js';
import { resolveSide } from '../services/diff/index.js';

/** Loads a source's products, stock and orders into the pipeline, resumably. */
export default class Backfill extends BaseCommand<typeof Backfill> {
  static override summary = 'Load the products, stock and orders of a source into the pipeline (resumable).';
  static override description = 'Reads Shopify through a bulk operation (orders through paged queries), WooCommerce by pages of 100 with the site\'s concurrency, the ERP straight from its tables, and stores everything as raw events (origin backfill) that the daemon syncs with its rules. Progress is kept in the checkpoints table: after Ctrl-C or a crash, run the same command with --resume.';
  static override examples = [
    '<%= config.bin %> backfill --source shopify:main',
    '<%= config.bin %> backfill --source woocommerce:outlet --since 2026-01-01',
    '<%= config.bin %> backfill --source erp --dry-run',
    '<%= config.bin %> backfill --source shopify:main --resume --json',
  ];
  static override flags = {
    source: Flags.string({ char: 's', description: 'The source: shopify[:instance], woocommerce[:instance] or erp.', required: true }),
    since: Flags.string({ description: 'Only what changed at or after this date (ISO 8601, e.g. 2026-01-01).' }),
    'dry-run': Flags.boolean({ description: 'Read and count everything; store nothing.' }),
    resume: Flags.boolean({ description: 'Continue an interrupted run from its checkpoint.' }),
  };

  public async run(): Promise<BackfillResult> {
    const f = this.flags;
    const since = f.since ? new Date(f.since) : null;
    if (since && Number.isNaN(since.getTime())) throw new ConfigError('BACKFILL_BAD_SINCE', `--since ${f.since} is not a date.`, { hint: 'Use ISO 8601, e.g. 2026-01-01 or 2026-01-01T12:00:00Z.' });
    const { config } = await this.loadConfig();
    const side = resolveSide(f.source, config);
    const progress = PhaseProgress.for(backfillPhases(side), this.jsonEnabled());
    const abort = new AbortController();
    void this.waitForShutdown().then(() => abort.abort());
    try {
      const r = await runBackfill(config, side, { since, dryRun: f['dry-run'], resume: f.resume, signal: abort.signal, onProgress: (p) => progress.update(p) });
      await progress.finish();
      if (f.resume && !r.resumedFrom) this.warnUser(`There was no unfinished backfill of ${side.key} to resume: it ran from the start.`);
      if (!this.jsonEnabled()) {
        for (const p of r.phases) this.log(`${p.phase}: ${p.records} read, ${r.dryRun ? `${p.events} event(s) would be stored` : `${p.stored} event(s) stored, ${p.alreadyKnown} already known`}${p.skippedBySince ? `, ${p.skippedBySince} older than --since` : ''}`);
        this.log(`${r.dryRun ? 'Dry run of' : 'Backfilled'} ${r.source}${r.resumedFrom ? ' (resumed)' : ''} in ${r.seconds.toFixed(1)} s.`);
      }
      return r;
    } catch (err) {
      await progress.finish();
      throw err;
    }
  }
}
