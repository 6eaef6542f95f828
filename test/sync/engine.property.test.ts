import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { CHANNELS, RULES, World, type Action } from './engine-world.js';

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant('sale' as const), ch: fc.nat(2), q: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('cancel' as const), order: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('receipt' as const), q: fc.integer({ min: 1, max: 10 }) }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('deliver' as const), k: fc.nat(50), dup: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('drop' as const), k: fc.nat(50) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('write' as const), k: fc.nat(10) }) },
);

describe('Sync engine decisions (property-based, ERP as stock authority)', () => {
  it('ends with every channel showing the ERP quantity minus its buffer, whatever the interleaving and webhook faults', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 120 }), (actions) => {
        const w = new World();
        for (const a of actions) w.apply(a);
        w.settle();
        for (const ch of CHANNELS) assert.equal(w.platform[ch], Math.max(0, w.erp - RULES.buffers[ch]!), `${ch} shows ${w.platform[ch]}, ERP has ${w.erp}`);
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 300) },
    );
  });

  it('counts every sale exactly once in the ERP (initial + receipts − net sales), with cancellations restocked', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 120 }), (actions) => {
        const w = new World();
        for (const a of actions) w.apply(a);
        w.settle();
        assert.equal(w.erp, 50 + w.receipts - w.netSales());
        assert.equal(w.bundle.entity.pending, 0, 'unconfirmed adjustments left');
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 300) },
    );
  });

  it('never plans a write because of the echo of its own write', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 120 }), (actions) => {
        const w = new World();
        for (const a of actions) w.apply(a);
        w.settle();
        assert.equal(w.echoWrites, 0);
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 200) },
    );
  });

  it('records one ledger line per order line, whatever the duplicates', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 80 }), (actions) => {
        const w = new World();
        for (const a of actions) w.apply(a);
        w.settle();
        assert.equal(w.ledger.size, w.orders.length);
        for (const o of w.orders) assert.equal(w.ledger.get(`${o.ch}|${o.id}|${o.id}-1`)?.status, o.cancelled ? 'CANCELLED' : 'COMMITTED');
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 200) },
    );
  });
});
