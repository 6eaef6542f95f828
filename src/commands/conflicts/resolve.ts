import { Args, Flags } from '@oclif/core';
import { userInfo } from 'node:os';
import { BaseCommand } from '../../cli/base-command.js';
import { table } from '../../cli/render.js';
import { ConfigError } from '../../core/errors.js';
import { getConflict, listConflicts, resolveConflicts, type ResolveOutcome } from '../../services/conflicts.js';

/** Resolves one conflict, or every open conflict matching a filter. */
export default class ConflictsResolve extends BaseCommand<typeof ConflictsResolve> {
  static override summary = 'Resolve a conflict (or all open ones matching --type/--entity): the engine applies the decision.';
  static override examples = [
    '<%= config.bin %> conflicts resolve 3f2a... --use shopify:main --note "price list from marketing"',
    '<%= config.bin %> conflicts resolve 3f2a... --value \'"19.99"\'',
    '<%= config.bin %> conflicts resolve --type FIELD_CONFLICT --entity SKU-000123-1 --use erp',
  ];
  static override args = { id: Args.string({ description: 'Conflict id (omit to resolve by filter).' }) };
  static override flags = {
    use: Flags.string({ description: 'Take the value this source instance had (e.g. shopify:main).', exclusive: ['value'] }),
    value: Flags.string({ description: 'Use this value (JSON, e.g. \'"19.99"\').', exclusive: ['use'] }),
    note: Flags.string({ description: 'Why (kept in conflict_log).' }),
    type: Flags.string({ description: 'Filter: resolve every open conflict of this type.', options: ['FIELD_CONFLICT', 'UNMATCHED_SKU', 'DUPLICATE_SKU', 'SHARED_STOCK'] }),
    entity: Flags.string({ description: 'Filter: resolve every open conflict of this SKU.' }),
  };

  public async run(): Promise<{ resolved: ResolveOutcome[] }> {
    const { use, value, note, type, entity } = this.flags;
    if (!use && value === undefined) throw new ConfigError('USAGE', 'Say how to resolve: --use <source-instance> or --value <json>.');
    if (!this.args.id && !type && !entity) throw new ConfigError('USAGE', 'Give a conflict id, or --type/--entity to resolve many.');
    let decided: unknown;
    if (value !== undefined) {
      try {
        decided = JSON.parse(value);
      } catch {
        throw new ConfigError('USAGE', `--value must be JSON (e.g. '"19.99"'), got ${value}.`);
      }
    }
    const res = await this.resources();
    const pool = await res.pool();
    const rows = this.args.id ? [await getConflict(pool, this.args.id)] : await listConflicts(pool, { open: true, type, entity, limit: 10_000 });
    const resolved = await resolveConflicts(pool, res.kafka(), res.topics.canonical, rows, use ? { use } : { value: decided }, userInfo().username, note);
    if (!this.jsonEnabled()) {
      if (resolved.length === 0) this.log('No open conflict matches.');
      else this.log(table(['ID', 'SKU', 'RESOLUTION', 'APPLIED'], resolved.map((r) => [r.conflictId, r.sku, r.skipped ?? r.resolution, r.applied ? `${r.applied.field} = ${JSON.stringify(r.applied.value)}` : '-'])));
    }
    return { resolved };
  }
}
