import { BaseCommand } from '../../cli/base-command.js';
import { renderStack } from '../../cli/render.js';
import { stackStatus } from '../../stack/manager.js';
import type { StackComponentStatus } from '../../stack/component.js';

/** Reports each component of the local stack; exit 1 when one is not ready. */
export default class StackStatus extends BaseCommand<typeof StackStatus> {
  static override summary = 'Show the state of each component of the local stack (exit 1 if one is down).';
  static override examples = ['<%= config.bin %> stack status', '<%= config.bin %> stack status --json'];

  public async run(): Promise<{ components: StackComponentStatus[] }> {
    const { config } = await this.loadConfig();
    const components = await stackStatus(config, { connect: true, flink: true, monitoring: true });
    const required = components.filter((c) => ['postgres', 'redis', 'kafka'].includes(c.component) || c.managed);
    if (required.some((c) => !c.ready)) this.setFindings();
    if (!this.jsonEnabled()) this.log(renderStack(components));
    return { components };
  }
}
