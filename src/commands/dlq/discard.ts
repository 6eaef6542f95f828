import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import type { DeadLetter } from '../../db/dead-letters.js';
import { discardDeadLetter } from '../../services/dlq.js';

/** Discards one dead letter with a reason. */
export default class DlqDiscard extends BaseCommand<typeof DlqDiscard> {
  static override summary = 'Discard a dead letter (kept for the record with your reason; never replayed).';
  static override examples = ['<%= config.bin %> dlq discard 5b1c... --reason "product deleted on purpose"'];
  static override args = { id: Args.string({ description: 'Dead-letter id.', required: true }) };
  static override flags = { reason: Flags.string({ description: 'Why it is discarded.', required: true }) };

  public async run(): Promise<DeadLetter> {
    const d = await discardDeadLetter(await (await this.resources()).pool(), this.args.id, this.flags.reason);
    if (!this.jsonEnabled()) this.log(`Discarded ${d.deadLetterId}.`);
    return d;
  }
}
