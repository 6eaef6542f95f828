import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { table } from '../cli/render.js';
import { getEntity, type EntityReport } from '../services/entity.js';

const short = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');

/** One SKU across syncctl's tables (the console's entity page). */
export default class Entity extends BaseCommand<typeof Entity> {
  static override summary = 'Show one SKU: its state per instance, open and past conflicts, planned writes, recent source events, ledger lines and dead letters.';
  static override examples = ['<%= config.bin %> entity SKU-000123-1', '<%= config.bin %> entity SKU-000123-1 --limit 10 --json'];
  static override args = { sku: Args.string({ description: 'The SKU (as syncctl normalises it, e.g. upper case).', required: true }) };
  static override flags = { limit: Flags.integer({ description: 'Rows of each list (events, writes, ledger...).', default: 20, min: 1, max: 1000 }) };

  public async run(): Promise<EntityReport> {
    const e = await getEntity(await (await this.resources()).pool(), this.args.sku, { limit: this.flags.limit });
    if (!this.jsonEnabled()) {
      if (!e.known) this.log(`syncctl has nothing about ${e.sku}.`);
      const fields = (d: Record<string, unknown>) => {
        const f = (d.fields ?? {}) as Record<string, { value?: unknown }>;
        const scalars = Object.entries(d).filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v));
        return [...scalars.map(([k, v]) => `${k}=${JSON.stringify(v)}`), ...Object.entries(f).map(([k, v]) => `${k}=${JSON.stringify(v?.value ?? null)}`)].join(' ');
      };
      const section = (title: string, headers: string[], rows: string[][]) => {
        if (!rows.length) return;
        this.log(`\n${title}`);
        this.log(table(headers, rows));
      };
      section('STATE', ['INSTANCE', 'STATUS', 'VALUES', 'UPDATED'], e.instances.map((i) => [i.source, i.status ?? '-', fields(i.data), short(i.updatedAt || null)]));
      section('CONFLICTS', ['ID', 'TYPE', 'STATUS', 'CREATED'], e.conflicts.map((c) => [c.conflictId, c.type, c.resolution ?? c.status, short(c.createdAt)]));
      section('PLANNED WRITES', ['WRITE', 'TARGET', 'KIND', 'CAUSE', 'STATUS', 'UPDATED'], e.writes.map((w) => [w.writeId, w.target, w.kind, w.cause, w.status, short(w.updatedAt)]));
      section('SOURCE EVENTS', ['EVENT', 'SOURCE', 'TYPE', 'ORIGIN', 'RECEIVED'], e.events.map((v) => [v.eventId, v.source, v.eventType ?? '', v.origin, short(v.receivedAt)]));
      section('LEDGER', ['CHANNEL', 'ORDER', 'LINE', 'QTY', 'STATUS'], e.ledger.map((l) => [l.source, l.orderId, l.lineId, String(l.quantity), l.status]));
      section('DEAD LETTERS', ['ID', 'STAGE', 'CODE', 'STATUS'], e.deadLetters.map((d) => [d.deadLetterId, d.stage, d.errorCode, d.status]));
    }
    return e;
  }
}
