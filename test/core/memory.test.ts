import { strict as assert } from 'node:assert';
import v8 from 'node:v8';
import { HeapGuard } from '../../src/core/memory.js';

describe('HeapGuard: bounded memory in long streaming runs', () => {
  it('collects once garbage grows past the budget, and not before', () => {
    const guard = new HeapGuard(16);
    guard.check();
    assert.equal(guard.collections, 0, 'nothing allocated yet');
    let kept: string[] = [];
    for (let i = 0; i < 400_000; i++) kept.push(`row ${i} ${'x'.repeat(40)}`); // ~40 MB, then dropped
    const before = v8.getHeapStatistics().used_heap_size;
    kept = [];
    guard.check();
    assert.equal(guard.collections, 1);
    assert.ok(v8.getHeapStatistics().used_heap_size < before - 16 * 2 ** 20, 'the garbage was collected');
    guard.check();
    assert.equal(guard.collections, 1, 'no second collection without new garbage');
    assert.equal(kept.length, 0);
  });
});
