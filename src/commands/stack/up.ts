import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { renderStack } from '../../cli/render.js';
import { stackUp } from '../../stack/manager.js';
import type { StackComponentStatus } from '../../stack/component.js';

/** Starts the local stack (idempotent). */
export default class StackUp extends BaseCommand<typeof StackUp> {
  static override summary = 'Start the local stack: checks PostgreSQL and Redis, starts Kafka (and Kafka Connect + Debezium, Flink).';
  static override description =
    'Fetches pinned jars from Maven Central on first use (cached under stack.dir), formats Kafka storage once and starts each component on the ports in config. Running it twice is harmless; `stack down` stops only what it started.';
  static override examples = ['<%= config.bin %> stack up', '<%= config.bin %> stack up --flink --json'];
  static override flags = {
    connect: Flags.boolean({ description: 'Start Kafka Connect with the Debezium PostgreSQL plugin (ERP capture); --no-connect to skip it.', default: true, allowNo: true }),
    flink: Flags.boolean({ description: 'Also start a Flink session cluster and its SQL Gateway.', default: false }),
    monitoring: Flags.boolean({ description: 'Also start Prometheus and Alertmanager (Debian packages, installed if missing) with monitoring/ rules.', default: false }),
  };

  public async run(): Promise<{ components: StackComponentStatus[] }> {
    const { config } = await this.loadConfig();
    const components = await stackUp(config, { connect: this.flags.connect, flink: this.flags.flink || config.transform.runner === 'flink', monitoring: this.flags.monitoring }, (s) => {
      if (!this.jsonEnabled()) process.stderr.write(`${s.component}: ${s.ready ? 'ready' : 'not ready'}\n`);
    });
    if (!this.jsonEnabled()) this.log(renderStack(components));
    return { components };
  }
}
