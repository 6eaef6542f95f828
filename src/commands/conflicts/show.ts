import { Args } from '@oclif/core';
import { stringify } from 'yaml';
import { BaseCommand } from '../../cli/base-command.js';
import { getConflict, type ConflictRow } from '../../services/conflicts.js';

/** Shows one conflict with its values per source. */
export default class ConflictsShow extends BaseCommand<typeof ConflictsShow> {
  static override summary = 'Show one conflict: the values each source had, when, the policy and the resolution.';
  static override examples = ['<%= config.bin %> conflicts show 3f2a...'];
  static override args = { id: Args.string({ description: 'Conflict id.', required: true }) };

  public async run(): Promise<ConflictRow> {
    const c = await getConflict(await (await this.resources()).pool(), this.args.id);
    if (!this.jsonEnabled()) this.log(stringify(c));
    return c;
  }
}
