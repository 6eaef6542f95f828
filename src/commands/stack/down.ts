import { BaseCommand } from '../../cli/base-command.js';
import { renderStack } from '../../cli/render.js';
import { stackDown } from '../../stack/manager.js';
import type { StackComponentStatus } from '../../stack/component.js';

/** Stops what `stack up` started. */
export default class StackDown extends BaseCommand<typeof StackDown> {
  static override summary = 'Stop the components `stack up` started (never the machine\'s PostgreSQL or Redis).';
  static override examples = ['<%= config.bin %> stack down'];

  public async run(): Promise<{ components: StackComponentStatus[] }> {
    const { config } = await this.loadConfig();
    const components = await stackDown(config, { connect: true, flink: true, monitoring: true });
    if (!this.jsonEnabled()) this.log(renderStack(components));
    return { components };
  }
}
