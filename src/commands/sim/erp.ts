import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { ConfigError } from '../../core/errors.js';
import { getLogger } from '../../core/logger.js';
import { DEFAULT_ERP_DATABASE_URL, initErp, runErpGenerator, type ErpGeneratorStats, type ErpInitResult } from '../../simulators/erp/index.js';

/** Creates the sample ERP database and/or makes ERP-side changes at a steady rate. */
export default class SimErp extends BaseCommand<typeof SimErp> {
  static override summary = 'Create the sample ERP database and make ERP-side changes (receipts, adjustments, price changes).';
  static override description =
    'With --init, creates the sample ERP (database, schema, deterministic seed rows; idempotent). With --rate, makes that many changes per second until SIGINT/SIGTERM or --duration. The database is sources.erp.databaseUrl, else postgres://postgres@127.0.0.1:5432/syncctl_erp. See docs/erp-cdc.md.';
  static override examples = [
    '<%= config.bin %> sim erp --init --products 1000 --variants-per-product 3 --seed 1',
    '<%= config.bin %> sim erp --rate 50 --duration 60',
  ];

  static override flags = {
    init: Flags.boolean({ description: 'Create the database, schema and seed rows if missing.' }),
    products: Flags.integer({ description: 'Products in the seeded catalog (with --init).', default: 100, min: 0 }),
    'variants-per-product': Flags.integer({ description: 'SKUs per product (with --init).', default: 3, min: 1 }),
    seed: Flags.integer({ description: 'Seed of the data and of the generated changes.', default: 1 }),
    rate: Flags.integer({ description: 'Changes per second to make (0 = none).', default: 0, min: 0 }),
    duration: Flags.integer({ description: 'Stop the generator after this many seconds (default: until SIGINT/SIGTERM).', min: 1 }),
    'database-url': Flags.string({ description: 'ERP database URL (overrides sources.erp.databaseUrl).', env: 'SYNCCTL_SIM_ERP_DATABASE_URL' }),
  };

  public async run(): Promise<{ init: ErpInitResult | null; generator: ErpGeneratorStats | null }> {
    const f = this.flags;
    if (!f.init && f.rate === 0) throw new ConfigError('USAGE', 'Nothing to do: pass --init and/or --rate N.', { hint: 'See syncctl sim erp --help.' });
    const { config } = await this.loadConfig();
    const databaseUrl = f['database-url'] ?? config.sources.erp?.databaseUrl ?? DEFAULT_ERP_DATABASE_URL;
    const log = getLogger('sim.erp');
    const init = f.init ? await initErp({ databaseUrl, products: f.products, variantsPerProduct: f['variants-per-product'], seed: f.seed }) : null;
    if (init && !this.jsonEnabled()) this.log(`ERP ${init.database}: ${init.totals.items} items, ${init.totals.stockLevels} stock levels, ${init.totals.orders} orders (${init.inserted.items} items inserted now)`);
    let generator: ErpGeneratorStats | null = null;
    if (f.rate > 0) {
      const stop = new AbortController();
      void this.waitForShutdown().then(() => stop.abort());
      const timer = f.duration ? setTimeout(() => stop.abort(), f.duration * 1000) : undefined;
      log.info({ rate: f.rate, duration: f.duration ?? null }, 'ERP generator running');
      try {
        generator = await runErpGenerator({ databaseUrl, ratePerSecond: f.rate, seed: f.seed, signal: stop.signal });
      } finally {
        clearTimeout(timer);
      }
      if (!this.jsonEnabled()) this.log(`changes: ${generator.receipt} receipts, ${generator.adjustment} adjustments, ${generator.priceChange} price changes, ${generator.errors} errors in ${(generator.elapsedMs / 1000).toFixed(1)} s`);
    }
    return { init, generator };
  }
}
