import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { renderPlan } from '../../cli/catalog-output.js';
import { applyCatalog, type ApplyResult } from '../../services/catalog/index.js';

/** Plans the catalog's creations and archivals as planned writes and follows them. */
export default class CatalogApplyCommand extends BaseCommand<typeof CatalogApplyCommand> {
  static override summary = 'Create missing listings (and archive archived products) on the channels, through the daemon\'s writers.';
  static override description = 'Computes the plan of `catalog plan` and stores its creations (one create_product write per product and channel, idempotent: applying the same plan twice plans nothing new) and archivals as planned writes. The running daemon (`syncctl start`) executes them within each platform\'s limits; a creation interrupted by a crash is retried and adopts what the platform already has (looked up by SKU). The command follows the creations for --wait seconds and shows progress (archivals are executed like any field write). Exit 0 when every creation is done, 1 when some failed or are still pending.';
  static override examples = ['<%= config.bin %> catalog apply', '<%= config.bin %> catalog apply --channel woocommerce:outlet --wait 0 --json'];
  static override flags = {
    channel: Flags.string({ description: 'Only this channel (shopify[:instance] or woocommerce[:instance]).' }),
    wait: Flags.integer({ description: 'Seconds to follow the creations (0: plan them and return).', default: 300, min: 0 }),
  };

  public async run(): Promise<ApplyResult> {
    const { config } = await this.loadConfig();
    const pool = await (await this.resources()).pool();
    const tty = process.stderr.isTTY && !this.jsonEnabled();
    const r = await applyCatalog(config, pool, {
      channel: this.flags.channel,
      waitSeconds: this.flags.wait,
      onProgress: tty ? (w) => process.stderr.write(`\rCreations: ${w.done} done, ${w.failed} failed, ${w.pending} pending`) : undefined,
    });
    if (tty) process.stderr.write('\r\x1b[K');
    if (r.writes.failed > 0 || r.writes.pending > 0) this.setFindings();
    if (!this.jsonEnabled()) {
      this.log(renderPlan(r.plan));
      this.log(`\nPlanned now: ${r.planned} creation(s). Creations: ${r.writes.done} done, ${r.writes.failed} failed, ${r.writes.pending} pending${r.writes.pending && this.flags.wait ? ' (is the daemon running? `syncctl start` executes them)' : ''}.`);
      for (const f of r.failures) this.log(`  failed ${f.kind} ${f.sku} on ${f.target}: ${f.error}`);
    }
    return r;
  }
}
