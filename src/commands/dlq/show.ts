import { Args } from '@oclif/core';
import { stringify } from 'yaml';
import { BaseCommand } from '../../cli/base-command.js';
import type { DeadLetter } from '../../db/dead-letters.js';
import { getDeadLetter } from '../../services/dlq.js';

/** Shows one dead letter with its payload and error. */
export default class DlqShow extends BaseCommand<typeof DlqShow> {
  static override summary = 'Show one dead letter: the event or write, the error, attempts, first and last failure.';
  static override examples = ['<%= config.bin %> dlq show 5b1c...', '<%= config.bin %> dlq show 5b1c... --json'];
  static override args = { id: Args.string({ description: 'Dead-letter id.', required: true }) };

  public async run(): Promise<DeadLetter> {
    const d = await getDeadLetter(await (await this.resources()).pool(), this.args.id);
    if (!this.jsonEnabled()) this.log(stringify(d));
    return d;
  }
}
