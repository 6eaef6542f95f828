import { z } from 'zod';

/**
 * A faithful subset of Grafana's dashboard model (`@grafana/schema`, packages/grafana-schema
 * src/raw/dashboard/x/dashboard_types.gen.ts: Dashboard, Panel, RowPanel, GridPos,
 * VariableModel, DataSourceRef, FieldConfigSource, ThresholdsConfig, DashboardLink,
 * AnnotationQuery). Field names, optionality, enums and value types follow the generated
 * types; fields syncctl's dashboards do not use are left open (passthrough), never renamed.
 */
const dataSourceRef = z.object({ type: z.string().optional(), uid: z.string().optional() });

const gridPos = z.object({
  h: z.number().int().positive(),
  w: z.number().int().min(1).max(24),
  x: z.number().int().min(0).max(23),
  y: z.number().int().min(0),
  static: z.boolean().optional(),
});

const threshold = z.object({ color: z.string(), value: z.number().nullable() });
const thresholdsConfig = z.object({ mode: z.enum(['absolute', 'percentage']), steps: z.array(threshold) });

const fieldColorMode = z.enum([
  'continuous-BlPu', 'continuous-BlYlRd', 'continuous-blues', 'continuous-GrYlRd', 'continuous-greens', 'continuous-purples',
  'continuous-RdYlGr', 'continuous-reds', 'continuous-YlBl', 'continuous-YlRd', 'fixed', 'palette-classic',
  'palette-classic-by-name', 'shades', 'thresholds',
]);

const fieldConfig = z.looseObject({
  color: z.object({ mode: fieldColorMode, fixedColor: z.string().optional(), seriesBy: z.enum(['min', 'max', 'last']).optional() }).optional(),
  custom: z.record(z.string(), z.unknown()).optional(),
  decimals: z.number().optional(),
  description: z.string().optional(),
  displayName: z.string().optional(),
  links: z.array(z.unknown()).optional(),
  mappings: z.array(z.looseObject({ type: z.enum(['value', 'range', 'regex', 'special']), options: z.unknown() })).optional(),
  max: z.number().optional(),
  min: z.number().optional(),
  noValue: z.string().optional(),
  thresholds: thresholdsConfig.optional(),
  unit: z.string().optional(),
});

const fieldConfigSource = z.object({
  defaults: fieldConfig,
  overrides: z.array(z.object({ matcher: z.object({ id: z.string(), options: z.unknown().optional() }), properties: z.array(z.object({ id: z.string(), value: z.unknown().optional() })) })),
});

const dashboardLink = z.object({
  asDropdown: z.boolean(),
  icon: z.string(),
  includeVars: z.boolean(),
  keepTime: z.boolean(),
  tags: z.array(z.string()),
  targetBlank: z.boolean(),
  title: z.string(),
  tooltip: z.string(),
  type: z.enum(['link', 'dashboards']),
  url: z.string().optional(),
});

/** Panel (not a row). `targets` are plugin-specific records; a Prometheus target has `expr` and `refId`. */
export const panelSchema = z.looseObject({
  type: z.string().min(1).refine((t) => t !== 'row'),
  id: z.number().int().optional(),
  title: z.string().optional(),
  description: z.string().optional(),
  datasource: dataSourceRef.optional(),
  gridPos: gridPos.optional(),
  fieldConfig: fieldConfigSource.optional(),
  options: z.record(z.string(), z.unknown()).optional(),
  links: z.array(dashboardLink).optional(),
  repeat: z.string().optional(),
  repeatDirection: z.enum(['h', 'v']).optional(),
  interval: z.string().optional(),
  maxDataPoints: z.number().optional(),
  targets: z.array(z.record(z.string(), z.unknown())).optional(),
  transformations: z.array(z.object({ id: z.string(), options: z.unknown(), disabled: z.boolean().optional() })).optional(),
  transparent: z.boolean().optional(),
  pluginVersion: z.string().optional(),
});

const rowPanel = z.looseObject({
  type: z.literal('row'),
  collapsed: z.boolean(),
  id: z.number().int(),
  panels: z.array(panelSchema),
  gridPos: gridPos.optional(),
  title: z.string().optional(),
  datasource: dataSourceRef.optional(),
  repeat: z.string().optional(),
});

const variableOption = z.object({ selected: z.boolean().optional(), text: z.union([z.string(), z.array(z.string())]), value: z.union([z.string(), z.array(z.string())]) });

const variableModel = z.looseObject({
  name: z.string().min(1),
  type: z.enum(['query', 'adhoc', 'groupby', 'constant', 'datasource', 'interval', 'textbox', 'custom', 'system']),
  label: z.string().optional(),
  description: z.string().optional(),
  datasource: dataSourceRef.nullable().optional(),
  query: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  definition: z.string().optional(),
  current: z.union([variableOption, z.object({})]).optional(),
  options: z.array(variableOption).optional(),
  hide: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
  refresh: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
  sort: z.number().int().min(0).max(8).optional(),
  includeAll: z.boolean().optional(),
  multi: z.boolean().optional(),
  allValue: z.string().optional(),
  regex: z.string().optional(),
  skipUrlSync: z.boolean().optional(),
});

const annotationQuery = z.looseObject({
  builtIn: z.number().optional(),
  datasource: dataSourceRef,
  enable: z.boolean(),
  hide: z.boolean().optional(),
  iconColor: z.string(),
  name: z.string(),
  type: z.string().optional(),
});

/** Grafana's `Dashboard` (schemaVersion is the only required field, as in the generated type). */
export const dashboardSchema = z.looseObject({
  schemaVersion: z.number().int().min(36),
  uid: z.string().min(8).max(40).regex(/^[a-zA-Z0-9_-]+$/).optional(),
  title: z.string().optional(),
  description: z.string().optional(),
  tags: z.array(z.string()).optional(),
  editable: z.boolean().optional(),
  graphTooltip: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
  timezone: z.string().optional(),
  refresh: z.string().optional(),
  version: z.number().int().optional(),
  fiscalYearStartMonth: z.number().int().min(0).max(11).optional(),
  liveNow: z.boolean().optional(),
  time: z.object({ from: z.string(), to: z.string() }).optional(),
  timepicker: z.looseObject({ hidden: z.boolean().optional(), refresh_intervals: z.array(z.string()).optional(), nowDelay: z.string().optional() }).optional(),
  links: z.array(dashboardLink).optional(),
  annotations: z.object({ list: z.array(annotationQuery).optional() }).optional(),
  templating: z.object({ list: z.array(variableModel).optional() }).optional(),
  panels: z.array(z.union([rowPanel, panelSchema])).optional(),
});

export type GrafanaDashboard = z.infer<typeof dashboardSchema>;
