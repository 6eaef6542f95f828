import { Flags } from '@oclif/core';
import chalk from 'chalk';
import { BaseCommand } from '../cli/base-command.js';
import { table } from '../cli/render.js';
import { runDemo, type DemoSnapshot, type DemoSummary } from '../services/demo/run-demo.js';
import { packageRoot } from '../stack/paths.js';

/** The README's main job. */
export default class Demo extends BaseCommand<typeof Demo> {
  static override summary = 'Run the demo: local stack, two simulated Shopify stores, a WooCommerce site, the sample ERP, the daemon, live traffic, a final diff.';
  static override description =
    'Uses config/config.yml unless --config is given. Shows a live view (events/s, sync latency p50/p99, conflicts, dead letters); on Ctrl-C (or after --duration) stops the traffic, lets the pipeline settle, checks by reading every platform that the channels converged, stops everything it started and prints a summary. Exits 1 when the channels did not converge.';
  static override examples = ['<%= config.bin %> demo', '<%= config.bin %> demo --duration 60 --json', '<%= config.bin %> demo --products 200 --orders-per-second 5'];
  static override flags = {
    duration: Flags.integer({ description: 'Seconds of live traffic, then stop and summarise (non-interactive).', min: 1 }),
    products: Flags.integer({ description: 'Products per simulated store.', default: 50, min: 1 }),
    'variants-per-product': Flags.integer({ description: 'Variants (SKUs) per product.', default: 2, min: 1 }),
    'orders-per-second': Flags.string({ description: 'Orders per second on each simulated store.', default: '2' }),
    'erp-changes-per-second': Flags.string({ description: 'ERP receipts, adjustments and price changes per second.', default: '2' }),
  };

  public async run(): Promise<DemoSummary> {
    this.flags.config ??= `${packageRoot()}/config/config.yml`;
    const { config } = await this.loadConfig();
    const abort = new AbortController();
    void this.waitForShutdown().then(() => abort.abort());
    const human = !this.jsonEnabled();
    const summary = await runDemo(config, {
      durationSeconds: this.flags.duration,
      products: this.flags.products,
      variantsPerProduct: this.flags['variants-per-product'],
      ordersPerSecond: Number(this.flags['orders-per-second']),
      erpChangesPerSecond: Number(this.flags['erp-changes-per-second']),
      signal: abort.signal,
      onPhase: (m) => human && process.stderr.write(`${chalk.cyan('›')} ${m}\n`),
      onTick: (s) => human && this.live(s),
    });
    if (!summary.converged) this.setFindings();
    if (human) this.printSummary(summary);
    return summary;
  }

  private live(s: DemoSnapshot): void {
    const ms = (v: number | null) => (v === null ? '-' : `${v} ms`);
    const line = `[${s.elapsedSeconds}s] events ${s.eventsProcessed} (${s.eventsPerSecond}/s) · writes ${s.writesApplied} · latency p50 ${ms(s.latencyP50Ms)} p99 ${ms(s.latencyP99Ms)} · conflicts ${s.conflicts} · dead letters ${s.deadLetters}`;
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${line}`);
    else if (s.elapsedSeconds % 5 === 0) process.stderr.write(`${line}\n`);
    if (s.elapsedSeconds === 1) process.stderr.write(`\n  metrics: ${s.urls.metrics}\n  health:  ${s.urls.health}\n`);
  }

  private printSummary(s: DemoSummary): void {
    process.stderr.write('\n');
    this.log(table(['CHANNEL', 'COMPARED', 'MISMATCHED', 'MISSING'], s.convergence.channels.map((c) => [c.channel, String(c.compared), String(c.mismatched), String(c.missing)])));
    this.log(`\n${s.converged ? chalk.green('Converged') : chalk.red('NOT converged')}: every channel ${s.converged ? 'shows' : 'should show'} the ${s.convergence.authority} quantity minus its buffer (${s.convergence.skus} SKUs).`);
    this.log(`Events processed ${s.eventsProcessed}, writes ${s.writesApplied}, sync latency p50 ${s.latency.p50Ms ?? '-'} ms / p99 ${s.latency.p99Ms ?? '-'} ms, open conflicts ${s.conflicts}, dead letters ${s.deadLetters}, ${s.durationSeconds} s.`);
  }
}
