import type { CanonicalEvent } from '../../core/model.js';
import type { SkuBundle } from '../state.js';
import { onConflictResolved, onProductChanged, onProductDeleted } from './catalog.js';
import { onInventoryObserved, onSale, onWriteConfirmed, onWriteFailed } from './inventory.js';
import type { DecideContext, Effects } from './types.js';

/**
 * The engine's decision for one canonical event: pure over the SKU's state bundle (which it
 * mutates) and the preloaded context, so it can be property-tested without any service.
 */
export function decide(b: SkuBundle, ev: CanonicalEvent, ctx: DecideContext): Effects {
  switch (ev.type) {
    case 'InventoryObserved':
      return onInventoryObserved(b, ev, ctx);
    case 'SaleRecorded':
    case 'SaleCancelled':
      return onSale(b, ev, ctx);
    case 'ProductChanged':
      return onProductChanged(b, ev, ctx);
    case 'ProductDeleted':
      return onProductDeleted(b, ev);
    case 'WriteConfirmed':
      return onWriteConfirmed(b, ev, ctx);
    case 'WriteFailed':
      return onWriteFailed(b, ev);
    case 'ConflictResolved':
      return onConflictResolved(b, ev, ctx);
  }
}
