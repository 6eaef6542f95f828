import { Args, Flags } from '@oclif/core';
import { once } from 'node:events';
import { BaseCommand } from '../cli/base-command.js';
import { CSV_HEADER, csvLine, renderDiff, type DiffJson } from '../cli/diff-output.js';
import { ConfigError } from '../core/errors.js';
import { parseFields, resolveSide, runDiff, type Difference } from '../services/diff/index.js';

/** Compares the live catalogs and stock of two sides by SKU; exit 1 on drift. */
export default class Diff extends BaseCommand<typeof Diff> {
  static override summary = 'Compare the live catalogs and stock of two sources by SKU (exit 0 in sync, 1 drift, 2 usage, 3 failure).';
  static override description = 'Reads both sides from the platforms themselves (Shopify bulk operation, WooCommerce pages, ERP tables), never from syncctl\'s state, and reports SKUs missing on either side, duplicate SKUs and quantity, price (and title) differences. Quantities take channel buffers and the stock authority into account. --fix submits the current state of the differing SKUs to the pipeline, so the engine repairs them with its rules; it never writes a platform directly.';
  static override examples = [
    '<%= config.bin %> diff shopify woocommerce',
    '<%= config.bin %> diff shopify woocommerce --shopify eu --woocommerce outlet --fields quantity,price,title',
    '<%= config.bin %> diff shopify:main erp --json',
    '<%= config.bin %> diff woocommerce erp --csv > drift.csv',
    '<%= config.bin %> diff shopify erp --fix',
  ];
  static override args = {
    a: Args.string({ description: 'Side a: shopify[:instance], woocommerce[:instance] or erp.', required: true }),
    b: Args.string({ description: 'Side b: shopify[:instance], woocommerce[:instance] or erp.', required: true }),
  };
  static override flags = {
    shopify: Flags.string({ description: 'Shopify instance when a side is just "shopify".' }),
    woocommerce: Flags.string({ description: 'WooCommerce instance when a side is just "woocommerce".' }),
    fields: Flags.string({ description: 'Compared fields: quantity, price, title (comma separated).', default: 'quantity,price' }),
    limit: Flags.integer({ description: 'Differences shown (and put in --json); 0 = all.', default: 50, min: 0 }),
    csv: Flags.boolean({ description: 'Stream every difference as CSV (sku,kind,a,b) to stdout.', exclusive: ['json'] }),
    fix: Flags.boolean({ description: 'Submit the differing SKUs\' current states to the pipeline (origin diff) so the engine repairs them.' }),
  };

  public async run(): Promise<DiffJson> {
    const f = this.flags;
    if (f.csv && this.jsonEnabled()) throw new ConfigError('USAGE', '--csv and --json cannot be used together.', { hint: 'Pick one output format.' });
    const { config } = await this.loadConfig();
    const choice = { shopify: f.shopify, woocommerce: f.woocommerce };
    const [a, b] = [resolveSide(this.args.a, config, choice), resolveSide(this.args.b, config, choice)];
    const fields = parseFields(f.fields);
    const tty = process.stderr.isTTY && !this.jsonEnabled() && !f.csv;
    const seen = { a: 0, b: 0 };
    const run = await runDiff(config, a, b, { fields, forFix: f.fix, onProgress: tty ? (s, n) => { seen[s] = n; process.stderr.write(`\rReading: a ${seen.a} rows, b ${seen.b} rows`); } : undefined });
    this.onCleanup(() => run.close());
    if (tty) process.stderr.write('\r\x1b[K');
    const differences: Difference[] = [];
    let truncated = false;
    // CSV goes out in chunks of about 64 KB: one write per line costs more than the comparison.
    let chunk = f.csv ? `${CSV_HEADER}\n` : '';
    const flush = async () => {
      const ok = process.stdout.write(chunk);
      chunk = '';
      if (!ok) await once(process.stdout, 'drain');
    };
    for await (const d of run.differences()) {
      if (f.csv) {
        chunk += `${csvLine(d)}\n`;
        if (chunk.length >= 65_536) await flush();
      } else if (f.limit === 0 || differences.length < f.limit) differences.push(d);
      else {
        truncated = true;
        break;
      }
    }
    if (chunk) await flush();
    const result: DiffJson = { pair: run.pair, a: a.key, b: b.key, fields, summary: run.summary, differences, truncated, inSync: run.inSync, seconds: run.seconds };
    if (f.fix) result.fix = await run.fix();
    if (!run.inSync) this.setFindings();
    if (f.csv) process.stderr.write(`${run.pair}: ${run.inSync ? 'in sync' : 'drift found'} (${JSON.stringify(run.kinds)})\n`);
    else if (!this.jsonEnabled()) this.log(renderDiff(result));
    return result;
  }
}
