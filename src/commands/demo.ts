import { Flags } from '@oclif/core';
import pino from 'pino';
import { join } from 'node:path';
import { BaseCommand } from '../cli/base-command.js';
import { EXIT } from '../cli/exit-codes.js';
import { DemoView, onDemoSignals } from '../cli/demo-view.js';
import { configureLogger, type LogLevel } from '../core/logger.js';
import { runDemo, type DemoSummary } from '../services/demo/run-demo.js';
import { packageRoot, stackDir } from '../stack/paths.js';

/** The README's main job. */
export default class Demo extends BaseCommand<typeof Demo> {
  static override summary = 'Run the demo: local stack, two simulated Shopify stores, a WooCommerce site, the sample ERP, the daemon, live traffic, a final diff.';
  static override description = [
    'Uses config/config.yml unless --config is given. Shows a live view: events/s, sync latency p50/p99 over the last 30 s by path (ERP change → channels, sale on a channel → other channels, order → ERP, a channel corrected), and open dead letters and conflicts by kind: the ones the demo causes on purpose (orders for SKUs only one store sells, SKUs only one store has, price edits the ERP wins) apart from anything unexpected.',
    'Ctrl-C (or SIGTERM, or the end of --duration) stops the traffic, lets the pipeline settle (at most --settle-seconds, with progress), checks by reading every platform that the channels converged, prints a summary and stops everything it started: exit 0 when converged, 1 when not. A component that dies during the run (Kafka, Kafka Connect, the ERP connector, PostgreSQL) is named in one line and the demo ends at once with exit 3, without checking. A second Ctrl-C exits at once (exit 130; 143 for SIGTERM), still stopping the stack components the demo started.',
    'Kafka, Kafka Connect and the rest of the local stack run in sessions of their own: Ctrl-C reaches only the demo. The demo stops only the components it started itself; a stack that was already running stays up. The daemon\'s JSON logs go to <stack.dir>/logs/demo.log (to stderr with --log-level).',
  ].join('\n\n');
  static override examples = ['<%= config.bin %> demo', '<%= config.bin %> demo --duration 60 --json', '<%= config.bin %> demo --products 200 --orders-per-second 5'];
  static override flags = {
    duration: Flags.integer({ description: 'Seconds of live traffic, then stop and summarise (non-interactive).', min: 1 }),
    products: Flags.integer({ description: 'Products per simulated store.', default: 50, min: 1 }),
    'variants-per-product': Flags.integer({ description: 'Variants (SKUs) per product.', default: 2, min: 1 }),
    'orders-per-second': Flags.string({ description: 'Orders per second on each simulated store.', default: '2' }),
    'erp-changes-per-second': Flags.string({ description: 'ERP receipts, adjustments and price changes per second.', default: '2' }),
    'settle-seconds': Flags.integer({ description: 'Most seconds to let the pipeline settle after the traffic stops, before checking anyway.', default: 120, min: 1 }),
  };

  public async run(): Promise<DemoSummary> {
    this.flags.config ??= `${packageRoot()}/config/config.yml`;
    const { config } = await this.loadConfig();
    const human = !this.jsonEnabled();
    const logFile = this.flags['log-level'] ? undefined : join(stackDir(config.stack.dir), 'logs', 'demo.log');
    if (logFile) {
      // JSON logs in the middle of the live view read as errors: the daemon's logs go to a file.
      configureLogger({ level: config.logging.level as LogLevel, components: config.logging.components as Record<string, LogLevel>, destination: pino.destination({ dest: logFile, mkdir: true, append: false, sync: false }) as unknown as NodeJS.WritableStream });
    }
    const view = new DemoView(logFile);
    const abort = new AbortController();
    let emergency: (() => Promise<void>) | undefined;
    const dispose = onDemoSignals({
      first: (key) => {
        if (human) view.phase(`${key}: stopping the traffic (${key} again to exit at once).`);
        abort.abort();
      },
      second: (key, code) => {
        view.phase(`${key} again: exiting now, without the check.`);
        void (emergency ? emergency() : Promise.resolve()).finally(() => process.exit(code));
      },
    });
    const summary = await runDemo(config, {
      durationSeconds: this.flags.duration,
      products: this.flags.products,
      variantsPerProduct: this.flags['variants-per-product'],
      ordersPerSecond: Number(this.flags['orders-per-second']),
      erpChangesPerSecond: Number(this.flags['erp-changes-per-second']),
      settleSeconds: this.flags['settle-seconds'],
      signal: abort.signal,
      onPhase: (m) => human && view.phase(m),
      onTick: (s) => human && view.live(s),
      onSettle: (p) => human && view.settling(p),
      onEmergencyStop: (fn) => (emergency = fn),
    }).finally(dispose);
    if (summary.outcome === 'not-converged') this.setFindings();
    if (summary.outcome === 'component-failed') process.exitCode = EXIT.RUNTIME;
    if (summary.outcome === 'interrupted') process.exitCode = 130;
    if (human) view.summary(summary, (line) => this.log(line));
    // Whatever a dead component left behind (a client's reconnect timer), the demo ends here.
    const code = Number(process.exitCode ?? 0);
    setTimeout(() => process.exit(code), 3000).unref();
    return summary;
  }
}
