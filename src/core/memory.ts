/**
 * Bounded memory for long streaming runs (a `diff` of a million SKUs). Such a run holds little
 * (a few batches), but V8 grows the old generation with the allocation rate rather than with what
 * is live, so without a hint the peak RSS creeps up with the length of the run. A
 * {@link HeapGuard} runs a full collection when the heap grows past a budget, which keeps the
 * peak at "live set + budget" whatever the run's size.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

let collect: (() => void) | null | undefined;

/** A full garbage collection, when the runtime lets us ask for one (V8's `gc`, exposed on demand). */
function fullGc(): (() => void) | null {
  if (collect !== undefined) return collect;
  try {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (typeof exposed === 'function') collect = exposed;
    else {
      v8.setFlagsFromString('--expose-gc');
      collect = vm.runInNewContext('gc') as () => void;
    }
  } catch {
    collect = null;
  }
  return collect;
}

/** Collects garbage whenever the used heap grows `budgetMb` beyond what the last collection left. */
export class HeapGuard {
  private floor: number;
  private readonly budget: number;
  /** Full collections run so far. */
  collections = 0;

  /** Starts from a collected heap (what loading the program left behind is garbage too). */
  constructor(budgetMb: number) {
    this.budget = budgetMb * 1024 * 1024;
    fullGc()?.();
    this.floor = v8.getHeapStatistics().used_heap_size;
  }

  /** Call between batches: cheap unless the heap grew past the budget. */
  check(): void {
    const used = v8.getHeapStatistics().used_heap_size;
    if (used - this.floor < this.budget) return;
    const gc = fullGc();
    if (!gc) return;
    gc();
    this.collections++;
    this.floor = v8.getHeapStatistics().used_heap_size;
  }
}
