/** The sample ERP: schema, deterministic seed data and a change generator (see docs/erp-cdc.md). */
export { ERP_SCHEMA_SQL, ERP_TABLES } from './schema.js';
export { initErp, ensureDatabase, erpSku, basePrice, DEFAULT_ERP_DATABASE_URL, ERP_WAREHOUSES, type ErpInitOptions, type ErpInitResult } from './init.js';
export { runErpGenerator, type ErpChangeKind, type ErpGeneratorOptions, type ErpGeneratorStats } from './generator.js';
