import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { table } from '../../cli/render.js';
import { listConflicts, type ConflictRow } from '../../services/conflicts.js';

/** Lists conflicts. */
export default class ConflictsList extends BaseCommand<typeof ConflictsList> {
  static override summary = 'List conflicts (field edits that collided, unmatched or duplicate SKUs).';
  static override examples = ['<%= config.bin %> conflicts list --open', '<%= config.bin %> conflicts list --type FIELD_CONFLICT --entity SKU-000123-1 --json'];
  static override flags = {
    open: Flags.boolean({ description: 'Only open conflicts.' }),
    type: Flags.string({ description: 'Only this type.', options: ['FIELD_CONFLICT', 'UNMATCHED_SKU', 'DUPLICATE_SKU', 'SHARED_STOCK'] }),
    entity: Flags.string({ description: 'Only this SKU.' }),
    limit: Flags.integer({ description: 'At most this many rows.', default: 100, min: 1 }),
  };

  public async run(): Promise<{ conflicts: ConflictRow[] }> {
    const pool = await (await this.resources()).pool();
    const conflicts = await listConflicts(pool, { open: this.flags.open, type: this.flags.type, entity: this.flags.entity, limit: this.flags.limit });
    if (!this.jsonEnabled()) {
      if (conflicts.length === 0) this.log('No conflicts.');
      else this.log(table(['ID', 'SKU', 'TYPE', 'FIELD', 'SOURCE', 'STATUS', 'RESOLUTION', 'CREATED'], conflicts.map((c) => [c.conflictId, c.sku, c.type, String(c.details.field ?? ''), c.source, c.status, c.resolution ?? '', c.createdAt])));
    }
    return { conflicts };
  }
}
