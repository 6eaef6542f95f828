import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { renderPlan } from '../../cli/catalog-output.js';
import { planCatalog, type CatalogPlan } from '../../services/catalog/index.js';

/** Shows what catalog sync would create, update and archive on the channels. */
export default class CatalogPlanCommand extends BaseCommand<typeof CatalogPlanCommand> {
  static override summary = 'Show what catalog sync would create, update and archive on the channels (reads the platforms; writes nothing).';
  static override description = 'Compares the product master (the ERP: items grouped by product_code) with each channel\'s live catalog, by SKU. A master product a channel lists (catalog.channels.<channel>.listing: all, or a list of product codes or SKUs) and has none of the SKUs of is created by `catalog apply`; price and title differences are shown (the engine\'s field policies sync them); products archived on the master are archived on the channels. Exit 0 when there is nothing to do, 1 when there is.';
  static override examples = ['<%= config.bin %> catalog plan', '<%= config.bin %> catalog plan --channel woocommerce:outlet --json'];
  static override flags = {
    channel: Flags.string({ description: 'Only this channel (shopify[:instance] or woocommerce[:instance]).' }),
  };

  public async run(): Promise<CatalogPlan> {
    const { config } = await this.loadConfig();
    const { plan } = await planCatalog(config, { channel: this.flags.channel });
    if (plan.channels.some((c) => c.create.length + c.update.length + c.archive.length + c.incomplete.length > 0)) this.setFindings();
    if (!this.jsonEnabled()) this.log(renderPlan(plan));
    return plan;
  }
}
