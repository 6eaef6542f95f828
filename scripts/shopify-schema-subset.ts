/**
 * Generates `src/simulators/shopify/schema.graphql`: the strict subset of Shopify's real
 * 2026-04 Admin GraphQL schema that the simulator implements.
 *
 * Run: `npx tsx scripts/shopify-schema-subset.ts [path/to/admin_schema_2026-04.json.gz]`
 *
 * The list below names, per type, the fields (and the optional arguments of each field) we
 * implement. Everything reachable from them is pruned transitively from the real
 * introspection; required arguments and required input fields are always kept, so a
 * document valid against the subset is valid against Shopify.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildClientSchema, GraphQLDirective, GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLList,
  GraphQLNonNull, GraphQLObjectType, GraphQLScalarType, GraphQLSchema, GraphQLUnionType, assertValidSchema,
  isEnumType, isInputObjectType, isInterfaceType, isListType, isNonNullType, isObjectType, isScalarType, isSpecifiedScalarType,
  isUnionType, printSchema, specifiedDirectives,
  type GraphQLArgument, type GraphQLFieldConfigArgumentMap, type GraphQLInputFieldConfigMap, type GraphQLInputType,
  type GraphQLNamedType, type GraphQLOutputType, type GraphQLType, type IntrospectionQuery,
} from 'graphql';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = process.argv[2] ?? join(root, '..', 'shared', 'shopify-admin-schemas', 'admin_schema_2026-04.json.gz');
const target = join(root, 'src', 'simulators', 'shopify', 'schema.graphql');

const CONN = (t: string): Record<string, string[]> => ({
  [`${t}Connection`]: ['edges', 'nodes', 'pageInfo'],
  [`${t}Edge`]: ['cursor', 'node'],
});
const PAGE = 'first,after,last,before,reverse';

/** Kept fields per type: `name` or `name(optionalArg,...)`. Required arguments are kept automatically. */
export const SUBSET: Record<string, string[]> = {
  QueryRoot: [
    'shop', `locations(${PAGE},sortKey,includeInactive)`, 'location', `products(${PAGE},sortKey,query)`, 'product',
    `productVariants(${PAGE},sortKey,query)`, 'productVariant', 'inventoryItem', 'inventoryLevel',
    `orders(${PAGE},sortKey,query)`, 'order', `webhookSubscriptions(${PAGE},topics,uri)`, 'webhookSubscription',
    'currentBulkOperation(type)', 'bulkOperation',
  ],
  Mutation: [
    'inventorySetQuantities', 'inventoryAdjustQuantities', 'productVariantsBulkUpdate(allowPartialUpdates)',
    'webhookSubscriptionCreate', 'webhookSubscriptionDelete', 'bulkOperationRunQuery(groupObjects)',
    'productSet(identifier,synchronous)', 'productUpdate(product)',
  ],
  Node: ['id'],
  DisplayableError: ['field', 'message'],
  LegacyInteroperability: ['legacyResourceId'],
  Shop: ['id', 'name', 'email', 'myshopifyDomain', 'currencyCode', 'ianaTimezone', 'plan', 'createdAt', 'updatedAt'],
  ShopPlan: ['partnerDevelopment', 'publicDisplayName', 'shopifyPlus'],
  PageInfo: ['hasNextPage', 'hasPreviousPage', 'startCursor', 'endCursor'],
  Count: ['count', 'precision'],
  Location: ['id', 'legacyResourceId', 'name', 'isActive', 'fulfillsOnlineOrders', 'createdAt', 'updatedAt', 'inventoryLevel'],
  ...CONN('Location'),
  Product: [
    'id', 'legacyResourceId', 'title', 'handle', 'vendor', 'productType', 'status', 'tags', 'createdAt', 'updatedAt',
    'totalInventory', 'tracksInventory', 'hasOnlyDefaultVariant', `variants(${PAGE},sortKey)`, 'variantsCount',
  ],
  ...CONN('Product'),
  ProductVariant: [
    'id', 'legacyResourceId', 'title', 'displayName', 'sku', 'price', 'compareAtPrice', 'barcode', 'position',
    'inventoryQuantity', 'inventoryPolicy', 'availableForSale', 'taxable', 'createdAt', 'updatedAt', 'product', 'inventoryItem',
  ],
  ...CONN('ProductVariant'),
  InventoryItem: [
    'id', 'legacyResourceId', 'sku', 'tracked', 'requiresShipping', 'createdAt', 'updatedAt', 'inventoryLevel',
    `inventoryLevels(${PAGE})`, 'variants(first,after,last,before)',
  ],
  InventoryLevel: ['id', 'isActive', 'createdAt', 'updatedAt', 'item', 'location', 'quantities'],
  ...CONN('InventoryLevel'),
  InventoryQuantity: ['id', 'name', 'quantity', 'updatedAt'],
  Order: [
    'id', 'legacyResourceId', 'name', 'number', 'email', 'note', 'tags', 'test', 'closed', 'closedAt', 'confirmed',
    'createdAt', 'updatedAt', 'processedAt', 'cancelledAt', 'cancelReason', 'displayFinancialStatus',
    'displayFulfillmentStatus', 'currencyCode', 'totalPriceSet', 'subtotalPriceSet', `lineItems(${PAGE})`,
  ],
  ...CONN('Order'),
  MoneyBag: ['shopMoney', 'presentmentMoney'],
  MoneyV2: ['amount', 'currencyCode'],
  LineItem: [
    'id', 'name', 'title', 'sku', 'quantity', 'currentQuantity', 'unfulfilledQuantity', 'variant', 'variantTitle',
    'product', 'vendor', 'requiresShipping', 'originalUnitPriceSet',
  ],
  ...CONN('LineItem'),
  InventorySetQuantitiesInput: ['name', 'reason', 'referenceDocumentUri', 'quantities'],
  InventoryQuantityInput: ['inventoryItemId', 'locationId', 'quantity', 'changeFromQuantity'],
  InventorySetQuantitiesPayload: ['inventoryAdjustmentGroup', 'userErrors'],
  InventorySetQuantitiesUserError: ['code', 'field', 'message'],
  InventoryAdjustQuantitiesInput: ['name', 'reason', 'referenceDocumentUri', 'changes'],
  InventoryChangeInput: ['delta', 'inventoryItemId', 'locationId', 'changeFromQuantity', 'ledgerDocumentUri'],
  InventoryAdjustQuantitiesPayload: ['inventoryAdjustmentGroup', 'userErrors'],
  InventoryAdjustQuantitiesUserError: ['code', 'field', 'message'],
  InventoryAdjustmentGroup: ['id', 'createdAt', 'reason', 'referenceDocumentUri', 'changes(inventoryItemIds,locationIds,quantityNames)'],
  InventoryChange: ['delta', 'item', 'location', 'name', 'quantityAfterChange', 'ledgerDocumentUri'],
  ProductVariantsBulkInput: ['id', 'price', 'compareAtPrice', 'barcode', 'taxable', 'inventoryPolicy', 'inventoryItem', 'inventoryQuantities'],
  InventoryItemInput: ['sku', 'tracked', 'requiresShipping', 'measurement'],
  InventoryItemMeasurementInput: ['weight'],
  WeightInput: ['unit', 'value'],
  InventoryLevelInput: ['availableQuantity', 'locationId'],
  ProductVariantsBulkUpdatePayload: ['product', 'productVariants', 'userErrors'],
  ProductVariantsBulkUpdateUserError: ['code', 'field', 'message'],
  ProductSetInput: ['title', 'descriptionHtml', 'handle', 'vendor', 'productType', 'status', 'productOptions', 'variants'],
  OptionSetInput: ['name', 'values'],
  OptionValueSetInput: ['name'],
  ProductVariantSetInput: ['optionValues', 'price', 'compareAtPrice', 'barcode', 'taxable', 'inventoryPolicy', 'inventoryItem', 'inventoryQuantities'],
  VariantOptionValueInput: ['name', 'optionName'],
  ProductSetInventoryInput: ['locationId', 'name', 'quantity'],
  ProductSetIdentifiers: ['handle', 'id'],
  ProductSetPayload: ['product', 'userErrors'],
  ProductUpdateInput: ['id', 'title', 'status'],
  ProductUpdatePayload: ['product', 'userErrors'],
  ProductSetUserError: ['code', 'field', 'message'],
  WebhookSubscription: ['id', 'legacyResourceId', 'topic', 'uri', 'format', 'filter', 'includeFields', 'apiVersion', 'createdAt', 'updatedAt'],
  ...CONN('WebhookSubscription'),
  ApiVersion: ['displayName', 'handle', 'supported'],
  WebhookSubscriptionInput: ['uri', 'format', 'filter', 'includeFields'],
  WebhookSubscriptionCreatePayload: ['webhookSubscription', 'userErrors'],
  WebhookSubscriptionDeletePayload: ['deletedWebhookSubscriptionId', 'userErrors'],
  UserError: ['field', 'message'],
  BulkOperation: [
    'id', 'status', 'type', 'query', 'createdAt', 'completedAt', 'errorCode', 'fileSize', 'objectCount',
    'rootObjectCount', 'url', 'partialDataUrl',
  ],
  BulkOperationRunQueryPayload: ['bulkOperation', 'userErrors'],
  BulkOperationUserError: ['code', 'field', 'message'],
};

/** Enums used as inputs are cut to the values the simulator implements; output enums stay whole. */
export const ENUM_VALUES: Record<string, string[]> = {
  ProductSortKeys: ['CREATED_AT', 'ID', 'TITLE', 'UPDATED_AT'],
  ProductVariantSortKeys: ['ID', 'POSITION', 'SKU'],
  OrderSortKeys: ['CREATED_AT', 'ID', 'PROCESSED_AT', 'UPDATED_AT'],
  LocationSortKeys: ['ID', 'NAME'],
  WebhookSubscriptionTopic: [
    'PRODUCTS_CREATE', 'PRODUCTS_UPDATE', 'PRODUCTS_DELETE', 'INVENTORY_LEVELS_UPDATE', 'INVENTORY_LEVELS_CONNECT',
    'INVENTORY_ITEMS_UPDATE', 'ORDERS_CREATE', 'ORDERS_UPDATED', 'ORDERS_CANCELLED', 'ORDERS_PAID', 'BULK_OPERATIONS_FINISH',
  ],
  WebhookSubscriptionFormat: ['JSON'],
};

const KEPT_DIRECTIVES = ['idempotent'];

function parseSpec(entries: string[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const e of entries) {
    const m = /^(\w+)(?:\(([\w,]*)\))?$/.exec(e);
    if (!m) throw new Error(`bad field spec ${e}`);
    out.set(m[1]!, new Set((m[2] ?? '').split(',').filter(Boolean)));
  }
  return out;
}

const required = (a: { type: GraphQLType; defaultValue?: unknown }) => isNonNullType(a.type) && a.defaultValue === undefined;

function main(): void {
  const real = buildClientSchema((JSON.parse(gunzipSync(readFileSync(source)).toString('utf8')) as { data: IntrospectionQuery }).data);
  const built = new Map<string, GraphQLNamedType>();

  const wrap = <T extends GraphQLType>(t: GraphQLType): T => {
    if (isNonNullType(t)) return new GraphQLNonNull(wrap(t.ofType)) as unknown as T;
    if (isListType(t)) return new GraphQLList(wrap(t.ofType)) as unknown as T;
    return named(t.name) as unknown as T;
  };

  const specOf = (name: string): Map<string, Set<string>> => {
    const s = SUBSET[name];
    if (!s) throw new Error(`type ${name} is reachable but not listed in SUBSET`);
    return parseSpec(s);
  };

  const args = (realArgs: readonly GraphQLArgument[], keep: Set<string>, where: string): GraphQLFieldConfigArgumentMap => {
    const out: GraphQLFieldConfigArgumentMap = {};
    for (const k of keep) if (!realArgs.some((a) => a.name === k)) throw new Error(`${where} has no argument ${k}`);
    for (const a of realArgs) {
      if (!keep.has(a.name) && !required(a)) continue;
      out[a.name] = { type: wrap<GraphQLInputType>(a.type), description: a.description, defaultValue: a.defaultValue, deprecationReason: a.deprecationReason };
    }
    return out;
  };

  const named = (name: string): GraphQLNamedType => {
    const existing = built.get(name);
    if (existing) return existing;
    const t = real.getType(name);
    if (!t) throw new Error(`no type ${name} in the real schema`);
    let out: GraphQLNamedType;
    if (isScalarType(t)) {
      out = isSpecifiedScalarType(t) ? t : new GraphQLScalarType({ name, description: t.description, specifiedByURL: t.specifiedByURL });
    } else if (isEnumType(t)) {
      const keep = ENUM_VALUES[name];
      const values: Record<string, { description?: string | null; deprecationReason?: string | null }> = {};
      for (const v of t.getValues()) if (!keep || keep.includes(v.name)) values[v.name] = { description: v.description, deprecationReason: v.deprecationReason };
      if (keep) for (const k of keep) if (!values[k]) throw new Error(`${name} has no value ${k}`);
      out = new GraphQLEnumType({ name, description: t.description, values });
    } else if (isInputObjectType(t)) {
      const spec = specOf(name);
      const realFields = t.getFields();
      for (const k of spec.keys()) if (!realFields[k]) throw new Error(`${name} has no field ${k}`);
      out = new GraphQLInputObjectType({
        name, description: t.description, isOneOf: t.isOneOf,
        fields: () => {
          const f: GraphQLInputFieldConfigMap = {};
          for (const rf of Object.values(realFields)) {
            if (!spec.has(rf.name) && !required(rf)) continue;
            f[rf.name] = { type: wrap<GraphQLInputType>(rf.type), description: rf.description, defaultValue: rf.defaultValue, deprecationReason: rf.deprecationReason };
          }
          return f;
        },
      });
    } else if (isObjectType(t) || isInterfaceType(t)) {
      const spec = specOf(name);
      const realFields = t.getFields();
      for (const k of spec.keys()) if (!realFields[k]) throw new Error(`${name} has no field ${k}`);
      const config = {
        name, description: t.description,
        interfaces: () => t.getInterfaces().filter((i) => SUBSET[i.name]).map((i) => named(i.name) as GraphQLInterfaceType),
        fields: () => Object.fromEntries([...spec].map(([fname, keepArgs]) => {
          const rf = realFields[fname]!;
          return [fname, { type: wrap<GraphQLOutputType>(rf.type), description: rf.description, deprecationReason: rf.deprecationReason, args: args(rf.args, keepArgs, `${name}.${fname}`) }];
        })),
      };
      out = isObjectType(t) ? new GraphQLObjectType(config) : new GraphQLInterfaceType(config);
    } else if (isUnionType(t)) {
      throw new Error(`union ${name} reached: list its members explicitly first`);
    } else {
      throw new Error(`unexpected type ${name}`);
    }
    built.set(name, out);
    return out;
  };

  const directives = [
    ...specifiedDirectives,
    ...KEPT_DIRECTIVES.map((d) => {
      const rd = real.getDirective(d);
      if (!rd) throw new Error(`no directive @${d}`);
      return new GraphQLDirective({
        name: rd.name, description: rd.description, locations: [...rd.locations], isRepeatable: rd.isRepeatable,
        args: Object.fromEntries(rd.args.map((a) => [a.name, { type: wrap<GraphQLInputType>(a.type), description: a.description }])),
      });
    }),
  ];
  const schema = new GraphQLSchema({
    query: named(real.getQueryType()!.name) as GraphQLObjectType,
    mutation: named(real.getMutationType()!.name) as GraphQLObjectType,
    types: Object.keys(SUBSET).filter((n) => isInterfaceType(real.getType(n))).map((n) => named(n)),
    directives,
  });
  for (const n of Object.keys(SUBSET)) named(n);
  assertValidSchema(schema);
  const header = '# Generated by scripts/shopify-schema-subset.ts from Shopify\'s published Admin GraphQL schema 2026-04.\n'
    + '# A strict subset: do not edit by hand; change the SUBSET list in the script and run it again.\n\n';
  writeFileSync(target, header + printSchema(schema) + '\n');
  process.stderr.write(`wrote ${target} (${Object.keys(schema.getTypeMap()).filter((n) => !n.startsWith('__')).length} types)\n`);
}

main();
