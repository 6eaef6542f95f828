import { Flags } from '@oclif/core';

/** A flag holding a number (integer or fraction). */
export const numberFlag = (description: string) => Flags.custom<number>({ parse: async (s) => Number(s), description })();

/**
 * Flags every channel simulator (`sim shopify`, `sim woocommerce`) takes: where it listens, how its
 * catalog differs from the shared one, webhook faults and traffic. Each command adds its own.
 */
export const channelSimulatorFlags = {
  port: Flags.integer({ description: 'Port (0 = any free port).', default: 0 }),
  host: Flags.string({ description: 'Interface to listen on.', default: '127.0.0.1' }),
  seed: Flags.integer({ description: 'Seed of this store: whatever it draws at random (WooCommerce: its API keys too; missing/extra SKUs, drift, faults, traffic).', default: 1 }),
  'missing-sku-ratio': numberFlag('Share (0..1) of shared SKUs left out of this store.'),
  'extra-skus': Flags.integer({ description: 'Items whose SKUs exist only in this store.' }),
  'quantity-drift': numberFlag('Share (0..1) of SKUs with a drifted quantity.'),
  'duplicate-skus': Flags.integer({ description: 'Items reusing another item\'s SKU.' }),
  'drop-webhooks': numberFlag('Percent of webhook deliveries dropped.'),
  'duplicate-webhooks': numberFlag('Percent of webhook deliveries sent twice.'),
  'delay-webhooks': Flags.integer({ description: 'Extra random delay 0..N ms per delivery (reorders them).' }),
  'bad-signature-webhooks': numberFlag('Percent of deliveries signed with a wrong key.'),
  'orders-per-second': numberFlag('Orders placed per second by the traffic generator.'),
};
