// A small simulated world (one SKU, the ERP as stock authority, three channels) that drives the
// engine's pure decision function the way the pipeline does: events may be delayed, reordered,
// duplicated or lost (and then found by polling); planned writes are executed later against
// the world, which answers with confirmations and webhook echoes.
import { decide } from '../../src/sync/engine/decide.js';
import { emptyBundle, type SkuBundle } from '../../src/sync/state.js';
import type { DecideContext, EngineRules, LedgerLine, PlannedWrite } from '../../src/sync/engine/types.js';
import type { CanonicalEvent } from '../../src/core/model.js';
import { lsnVersion } from '../../src/core/versions.js';

export const SKU = 'SKU-000001-1';
export const CHANNELS = ['shopify:main', 'shopify:eu', 'woocommerce:outlet'] as const;
export type Channel = (typeof CHANNELS)[number];

export const RULES: EngineRules = {
  authority: 'erp',
  channels: [...CHANNELS],
  buffers: { 'shopify:main': 0, 'shopify:eu': 2, 'woocommerce:outlet': 1 },
  fieldPolicies: { price: 'last-writer-wins', title: 'last-writer-wins' },
  conflictWindowMs: 300_000,
  settleMs: 0,
};

/** The actions a property test generates. */
export type Action =
  | { t: 'sale'; ch: number; q: number }
  | { t: 'cancel'; order: number }
  | { t: 'receipt'; q: number }
  | { t: 'deliver'; k: number; dup: boolean }
  | { t: 'drop'; k: number }
  | { t: 'write'; k: number };

export class World {
  erp = 50;
  lsn = 1000;
  clock = 0;
  platform: Record<Channel, number>;
  orders: Array<{ ch: Channel; q: number; cancelled: boolean; id: string; version: string }> = [];
  erpLines = new Map<string, { qty: number; version: string }>();
  appliedKeys = new Set<string>();
  queue: CanonicalEvent[] = [];
  lost: CanonicalEvent[] = [];
  pending = new Map<string, PlannedWrite & { writeId: string }>();
  bundle: SkuBundle = emptyBundle(SKU);
  ledger = new Map<string, LedgerLine>();
  receipts = 0;
  /** Writes planned right after an echo of one of our own writes (must stay 0). */
  echoWrites = 0;
  writesExecuted = 0;
  private seq = 0;
  private ctx: DecideContext;

  constructor() {
    this.platform = { 'shopify:main': 50, 'shopify:eu': 48, 'woocommerce:outlet': 49 };
    this.ctx = {
      rules: RULES,
      ledgerLine: (s, o, l) => this.ledger.get(`${s}|${o}|${l}`),
      newId: () => `id-${++this.seq}`,
      now: () => 1_700_000_000_000 + this.clock * 1000,
    };
    this.process(this.inv('erp', this.erp, lsnVersion(this.lsn)));
    for (const ch of CHANNELS) {
      this.process({ ...this.base(ch, this.ts()), type: 'ProductChanged', fields: { price: '10.00' }, refs: { id: `${ch}-v1` } });
      this.process(this.inv(ch, this.platform[ch], this.ts()));
    }
  }

  ts(): string {
    return new Date(1_700_000_000_000 + ++this.clock * 1000).toISOString();
  }
  private base(source: string, version: string) {
    return { eventId: `e-${++this.seq}`, sku: SKU, source, sourceVersion: version, occurredAt: version.includes('T') ? version : new Date(1_700_000_000_000 + this.clock * 1000).toISOString(), rawEventId: `r-${this.seq}`, origin: 'webhook' as const };
  }
  /** The last stock value each source reported (a poll finding the same value again is deduplicated by intake). */
  lastReported = new Map<string, number>();
  private inv(source: string, available: number, version: string): CanonicalEvent {
    this.lastReported.set(source, available);
    return { ...this.base(source, version), type: 'InventoryObserved', available, refs: { id: `${source}-v1` } };
  }

  /** Runs one canonical event through the engine and keeps its planned writes. */
  process(ev: CanonicalEvent): void {
    const echo = ev.type === 'InventoryObserved' && ev.source !== 'erp' && this.bundle.channels[ev.source]?.written?.available === ev.available;
    const fx = decide(this.bundle, ev, this.ctx);
    for (const l of fx.ledger) this.ledger.set(`${l.sourceKey}|${l.orderId}|${l.lineId}`, l);
    // Ping-pong: answering the echo of our own write by writing the same value back again.
    if (echo) this.echoWrites += fx.writes.filter((x) => x.target === ev.source && x.payload.available === ev.available).length;
    for (const c of fx.cancel) this.pending.delete(`${c.target}|${c.kind}`);
    for (const w of fx.writes) {
      const key = w.kind === 'inventory' ? `${w.target}|inventory` : w.idempotencyKey!;
      if (w.kind !== 'inventory' && this.appliedKeys.has(key)) continue;
      this.pending.set(key, { ...w, writeId: `w-${++this.seq}` });
    }
  }

  apply(a: Action): void {
    switch (a.t) {
      case 'sale': {
        const ch = CHANNELS[a.ch % 3]!;
        if (this.platform[ch] < a.q) return; // the platform refuses to oversell
        this.platform[ch] -= a.q;
        const id = `o${this.orders.length + 1}`;
        const version = this.ts();
        this.orders.push({ ch, q: a.q, cancelled: false, id, version });
        this.queue.push({ ...this.base(ch, version), type: 'SaleRecorded', orderId: id, lineId: `${id}-1`, quantity: a.q, order: { orderId: id, createdAt: version, lineCount: 1 } });
        this.queue.push(this.inv(ch, this.platform[ch], version));
        return;
      }
      case 'cancel': {
        const o = this.orders[a.order % Math.max(1, this.orders.length)];
        if (!o || o.cancelled) return;
        o.cancelled = true;
        o.version = this.ts();
        this.platform[o.ch] += o.q;
        this.queue.push({ ...this.base(o.ch, o.version), type: 'SaleCancelled', orderId: o.id, lineId: `${o.id}-1`, quantity: o.q });
        this.queue.push(this.inv(o.ch, this.platform[o.ch], o.version));
        return;
      }
      case 'receipt':
        this.erp += a.q;
        this.receipts += a.q;
        this.queue.push(this.inv('erp', this.erp, lsnVersion(++this.lsn)));
        return;
      case 'deliver': {
        if (!this.queue.length) return;
        const i = a.k % this.queue.length;
        const ev = this.queue[i]!;
        if (!a.dup) this.queue.splice(i, 1);
        this.process(ev);
        return;
      }
      case 'drop': {
        if (!this.queue.length) return;
        const [ev] = this.queue.splice(a.k % this.queue.length, 1);
        this.lost.push(ev!);
        return;
      }
      case 'write': {
        const keys = [...this.pending.keys()];
        if (!keys.length) return;
        this.execute(keys[a.k % keys.length]!);
        return;
      }
    }
  }

  /** A writer sends one planned write to the world. */
  execute(key: string): void {
    const w = this.pending.get(key)!;
    this.pending.delete(key);
    this.writesExecuted++;
    const now = this.ts();
    if (w.kind === 'inventory') {
      const ch = w.target as Channel;
      this.platform[ch] = w.payload.available as number; // absolute (Woo) or CAS re-read and retried (Shopify)
      this.queue.push({ ...this.base(ch, now), type: 'WriteConfirmed', target: ch, writeId: w.writeId, kind: w.kind, available: this.platform[ch], origin: 'writer' });
      this.queue.push(this.inv(ch, this.platform[ch], now)); // the webhook our write triggers
      return;
    }
    // An ERP order line: set the line's committed quantity; idempotent by key.
    const p = w.payload as { channel: string; orderId: string; lineId: string; quantity: number; pendingDelta: number; version: string };
    this.appliedKeys.add(key);
    const lineKey = `${p.channel}|${p.orderId}|${p.lineId}`;
    const before = this.erpLines.get(lineKey);
    // The ERP writer applies a line's state only if its version is newer than the one it holds.
    if (!before || p.version > before.version) {
      this.erpLines.set(lineKey, { qty: p.quantity, version: p.version });
      this.erp -= p.quantity - (before?.qty ?? 0);
    }
    const v = lsnVersion(++this.lsn);
    this.queue.push({ ...this.base('erp', v), type: 'WriteConfirmed', target: 'erp', writeId: w.writeId, kind: w.kind, available: this.erp, pendingDelta: p.pendingDelta, origin: 'writer' });
    this.queue.push(this.inv('erp', this.erp, v)); // CDC of our own write
  }

  /** Delivers everything (lost events are found by polling), executes every write, and reconciles, until quiet. */
  settle(): void {
    for (let round = 0; round < 50; round++) {
      this.queue.push(...this.lost.splice(0));
      while (this.queue.length || this.pending.size) {
        while (this.queue.length) this.process(this.queue.shift()!);
        for (const k of [...this.pending.keys()]) this.execute(k);
      }
      // The poller's periodic look at the current state of every source.
      const before = this.writesExecuted;
      for (const o of this.orders) {
        const ev: CanonicalEvent = o.cancelled
          ? { ...this.base(o.ch, o.version), type: 'SaleCancelled', orderId: o.id, lineId: `${o.id}-1`, quantity: o.q, origin: 'poll' }
          : { ...this.base(o.ch, o.version), type: 'SaleRecorded', orderId: o.id, lineId: `${o.id}-1`, quantity: o.q, order: { orderId: o.id, createdAt: o.version, lineCount: 1 }, origin: 'poll' };
        this.process(ev);
      }
      // Intake drops a polled state equal to one already received (same checksum).
      const now = this.ts();
      for (const ch of CHANNELS) if (this.lastReported.get(ch) !== this.platform[ch]) this.process(this.inv(ch, this.platform[ch], now));
      for (const k of [...this.pending.keys()]) this.execute(k);
      if (this.writesExecuted === before && !this.queue.length) return;
    }
    throw new Error('the world did not settle in 50 rounds');
  }

  /** Units sold and not cancelled. */
  netSales(): number {
    return this.orders.filter((o) => !o.cancelled).reduce((n, o) => n + o.q, 0);
  }
}
