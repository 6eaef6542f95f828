import { createHash } from 'node:crypto';
import type { SkuNormalisation } from '../../../core/ids.js';
import { SOURCE_PLATFORMS, type PipelineTopics } from '../../kafka/topics.js';
import { EMPTY_IS_NOTHING_TO_SYNC, MAPPING, MAPPING_VERSION, type Cond, type Expr, type MappingRule, type RejectReason } from '../mapping.js';
import type { FlinkSqlJob } from './jobs.js';

/**
 * Compiles the declarative raw → canonical mapping (`../mapping.ts`) into one Flink SQL job with
 * the semantics of the embedded interpreter (`../interpret.ts`):
 *
 * - one Kafka source table per raw topic, key and value read as RAW strings (never the JSON
 *   format, which either fails the job or drops bad records silently);
 * - a classification view: malformed JSON, `null` (skipped like a tombstone), not a raw event,
 *   unknown kind;
 * - per `kind`, a view that extracts every record-level value the rules of that kind use, once,
 *   as typed JSON text (`JSON_QUERY(... WITH UNCONDITIONAL ARRAY WRAPPER)` minus the brackets, so
 *   strings, numbers, booleans and objects keep their JSON type), and the arrays rules explode
 *   (`JSON_QUERY(... RETURNING ARRAY<STRING>)`);
 * - per rule, a view over `LEFT JOIN UNNEST(array) WITH ORDINALITY` that evaluates `where` and
 *   builds the canonical event as a JSON string (top-level keys always present, nested keys
 *   omitted when null, exactly like the interpreter);
 * - `NO_SKU` (no rule emitted anything for a raw event) needs "no element of any rule passed":
 *   Flink 2.2.1 supports neither correlated subqueries over UNNEST nor JSONPath filters (they need
 *   json-smart, absent from the cluster), so every rule row carries the raw event's total row
 *   count and a pass flag, and a processing-time OVER aggregate keyed by (topic, partition,
 *   offset) dead-letters the event on its last row when no row passed (state TTL bounds it).
 *
 * Everything is generated from the mapping data: a rule added to `MAPPING` flows into the SQL.
 */


/** Options of {@link flinkJobFor}. */
export interface FlinkTransformJobOptions {
  /** The job's stable name (the spec hash is appended by the job manager). */
  name: string;
  topics: PipelineTopics;
  /** Bootstrap servers as Flink should reach them. */
  brokers: string[];
  skuRule: SkuNormalisation;
  /** Consumer group of the Kafka sources (offsets are committed on each completed checkpoint). */
  groupId: string;
  /** The Flink dead-letter topic (see {@link flinkDlqTopic}). */
  dlqTopic: string;
  checkpointIntervalMs: number;
  /** Checkpoint directory URI; the cluster's default when absent. */
  checkpointUri?: string;
  deliveryGuarantee: 'at-least-once' | 'exactly-once';
  parallelism: number;
  /** Retention of the NO_SKU detection state (one small entry per raw event), ms. Default 10 min. */
  stateTtlMs?: number;
}

/** The Flink runner's dead-letter topic: `<prefix>.flink.dlq`. */
export const flinkDlqTopic = (topicPrefix: string): string => `${topicPrefix}.flink.dlq`;

/** One row of the Flink dead-letter topic (JSON). */
export interface FlinkDeadLetterRow {
  reason: RejectReason;
  /** The same message the embedded runner gives for this reason. */
  detail: string;
  src_topic: string;
  src_partition: number;
  src_offset: number;
  src_key: string | null;
  /** The raw value as it was on the raw topic. */
  payload: string | null;
  /** `eventId` of the raw event when it is a string. */
  event_id: string | null;
  /** `erp` or `<platform>:<instance>` when the raw event names a platform. */
  source_key: string | null;
  /** When Flink dead-lettered it (ms since epoch). */
  failed_at: number;
}

/** Escapes a value as a single-quoted Flink SQL string literal. */
export const sqlLit = (v: string): string => `'${v.replace(/'/g, "''")}'`;
/** Quotes an identifier. */
const ident = (v: string): string => `\`${v.replace(/`/g, '``')}\``;

/** JavaScript's `String.prototype.trim` white space, as a Java regex class. */
const JS_WS = '[\\s\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000\\uFEFF]';
/** The sentinel appended to a value to detect trailing garbage (Jackson ignores it, JSON.parse does not). */
const EOF_SENTINEL = '~syncctl:eof~';

/** SQL for the typed JSON text at `path` of JSON `json` (string → `"..."`, number → `1.5`...), NULL when missing or null. */
function typedAt(json: string, pathSql: string): string {
  return `NULLIF(REGEXP_EXTRACT(JSON_QUERY(${json}, ${pathSql} WITH UNCONDITIONAL ARRAY WRAPPER), '(?s)^\\[(.*)\\]$', 1), 'null')`;
}
/** The decoded string of a typed text that is a JSON string. */
const decodeString = (t: string): string => `JSON_VALUE(CONCAT('[', ${t}, ']'), '$[0]')`;
/** JavaScript `String(v)` of a typed text (numbers as written, objects as `[object Object]`). */
const jsString = (t: string): string =>
  `CASE WHEN ${t} IS NULL THEN CAST(NULL AS STRING) WHEN ${t} LIKE '"%' THEN ${decodeString(t)} WHEN ${t} LIKE '{%' THEN '[object Object]' WHEN ${t} LIKE '[%' THEN REGEXP_EXTRACT(${t}, '(?s)^\\[(.*)\\]$', 1) ELSE ${t} END`;
/** JSON text of a SQL string (NULL stays NULL). */
const jsonOfString = (s: string): string => `CASE WHEN (${s}) IS NULL THEN CAST(NULL AS STRING) ELSE JSON_STRING(${s}) END`;
/** Milliseconds since the epoch of a TIMESTAMP_LTZ (TIMESTAMPDIFF(MILLISECOND) truncates to seconds on 2.2.1). */
export const epochMs = (ts: string): string => `(CAST(TIMESTAMPDIFF(SECOND, TO_TIMESTAMP_LTZ(0, 3), ${ts}) AS BIGINT) * 1000 + EXTRACT(MILLISECOND FROM ${ts}))`;

/**
 * Computes `x` once: the planner merges stacked projections (FlinkCalcMergeRule) and would copy a
 * column's expression into every place that uses it (the generated code then grows until the
 * JobManager runs out of heap, and each JSON function re-parses the value). It does not merge a
 * non-deterministic expression that is used more than once, so the value is wrapped in one.
 */
const once = (x: string, type = 'STRING'): string => `CASE WHEN RAND() < 2 THEN ${x} ELSE CAST(NULL AS ${type}) END`;

/** A JSONPath (`$.a.b`) for the segments of a mapping path. */
function jsonPath(segments: string[]): string {
  for (const s of segments) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) throw new TypeError(`mapping path segment ${JSON.stringify(s)} cannot be compiled to Flink SQL`);
  return `$${segments.map((s) => `.${s}`).join('')}`;
}

/** A mapping path split into its root and the JSONPath from the raw value (`event`, `payload`) or the element (`item`). */
function splitPath(path: string): { root: 'record' | 'item'; jsonPath: string } {
  const [head, ...rest] = path.split('.');
  if (head === 'event') return { root: 'record', jsonPath: jsonPath(rest) };
  if (head === 'payload') return { root: 'record', jsonPath: jsonPath(['payload', ...rest]) };
  if (head === 'item') return { root: 'item', jsonPath: jsonPath(rest) };
  throw new TypeError(`mapping path ${path} must start with event., payload. or item.`);
}

/** Record-level values of one kind, extracted once per raw event (columns of the kind view). */
class KindColumns {
  readonly values = new Map<string, string>(); // JSONPath → column
  readonly arrays = new Map<string, string>(); // JSONPath → column
  value(path: string): string {
    let c = this.values.get(path);
    if (!c) this.values.set(path, (c = `r${this.values.size}`));
    return c;
  }
  array(path: string): string {
    let c = this.arrays.get(path);
    if (!c) this.arrays.set(path, (c = `a${this.arrays.size}`));
    return c;
  }
}

/** How one rule's expressions are compiled. */
class RuleCompiler {
  /** Element-level typed texts (computed once per element): SQL → column. */
  readonly itemCols = new Map<string, string>();
  /** Normalised SKUs (computed once per element): SQL → column. */
  readonly skuCols = new Map<string, string>();

  constructor(
    private readonly rule: MappingRule,
    private readonly cols: KindColumns,
    private readonly sku: SkuNormalisation,
    /** JSONPath of the exploded array, when the rule explodes one. */
    private readonly explodePath: string | null,
  ) {}

  /** Typed JSON text of the element itself (exact JSON type: re-read by position from the raw value). */
  private itemTyped(): string {
    if (!this.explodePath) throw new TypeError(`rule ${this.rule.id} uses item but explodes nothing`);
    return this.itemCol(typedAt('v', `CONCAT(${sqlLit(`${this.explodePath}[`)}, CAST(ord - 1 AS STRING), ']')`));
  }

  private itemCol(sql: string): string {
    let c = this.itemCols.get(sql);
    if (!c) this.itemCols.set(sql, (c = `it${this.itemCols.size}`));
    return c;
  }

  private pathTyped(path: string): string {
    if (path === 'item') return this.itemTyped();
    if (path === 'event') return 'v';
    const p = splitPath(path);
    if (p.root === 'record') return this.cols.value(p.jsonPath);
    if (!this.explodePath) throw new TypeError(`rule ${this.rule.id} uses ${path} but explodes nothing`);
    // Elements of RETURNING ARRAY<STRING> are JSON text for objects; a scalar element has no properties (JSON_QUERY fails → NULL).
    return this.itemCol(typedAt('item_s', sqlLit(p.jsonPath)));
  }

  /** SQL for the typed JSON text of an expression (NULL for null). */
  json(e: Expr): string {
    if ('path' in e) return this.pathTyped(e.path);
    if ('sku' in e) return jsonOfString(this.str(e));
    if ('const' in e) return e.const === null ? 'CAST(NULL AS STRING)' : sqlLit(JSON.stringify(e.const));
    if ('coalesce' in e) return e.coalesce.length ? `COALESCE(${e.coalesce.map((x) => this.json(x)).join(', ')})` : 'CAST(NULL AS STRING)';
    if ('concat' in e) return jsonOfString(this.str(e));
    return jsonOfString(this.str(e));
  }

  /** SQL for JavaScript `String()` of an expression (NULL for null); a `sku` expression gives the normalised SKU. */
  str(e: Expr): string {
    if ('path' in e) return jsString(this.pathTyped(e.path));
    if ('sku' in e) {
      const t = this.pathTyped(e.sku);
      // normaliseSku: strings and numbers only, trimmed, case-folded, blank → null.
      let s = `CASE WHEN ${t} LIKE '"%' THEN ${decodeString(t)} WHEN REGEXP(${t}, '^-?[0-9]') THEN ${t} ELSE CAST(NULL AS STRING) END`;
      if (this.sku.trim) s = `REGEXP_REPLACE(${s}, ${sqlLit(`^${JS_WS}+|${JS_WS}+$`)}, '')`;
      if (this.sku.case === 'upper') s = `UPPER(${s})`;
      else if (this.sku.case === 'lower') s = `LOWER(${s})`;
      const sql = `NULLIF(${s}, '')`;
      let c = this.skuCols.get(sql);
      if (!c) this.skuCols.set(sql, (c = `sk${this.skuCols.size}`));
      return c;
    }
    if ('const' in e) return e.const === null ? 'CAST(NULL AS STRING)' : sqlLit(String(e.const));
    if ('coalesce' in e) return e.coalesce.length ? `COALESCE(${e.coalesce.map((x) => this.str(x)).join(', ')})` : 'CAST(NULL AS STRING)';
    if ('concat' in e) return e.concat.length ? `CONCAT(${e.concat.map((x) => `(${this.str(x)})`).join(', ')})` : "''";
    return 'source_s';
  }

  cond(c: Cond): string {
    if ('notNull' in c) return 'sku' in c.notNull ? `(${this.str(c.notNull)}) IS NOT NULL` : `(${this.json(c.notNull)}) IS NOT NULL`;
    if ('isTrue' in c) return `COALESCE((${this.json(c.isTrue)}) = 'true', FALSE)`;
    return `COALESCE((${this.json(c.isFalse)}) = 'false', FALSE)`;
  }

  /** The canonical event as a JSON string, with the interpreter's shape. */
  document(): string {
    const top: string[] = [];
    const nested = new Map<string, string[]>();
    const order: string[] = [];
    for (const [name, expr] of Object.entries(this.rule.fields)) {
      const dot = name.indexOf('.');
      if (dot < 0) {
        top.push(`CONCAT(${sqlLit(`${JSON.stringify(name)}:`)}, COALESCE(${this.json(expr)}, 'null'))`);
        order.push(`t:${top.length - 1}`);
      } else {
        const outer = name.slice(0, dot);
        const inner = name.slice(dot + 1);
        if (!nested.has(outer)) {
          nested.set(outer, []);
          order.push(`n:${outer}`);
        }
        const j = this.json(expr);
        nested.get(outer)!.push(`CASE WHEN (${j}) IS NULL THEN CAST(NULL AS STRING) ELSE CONCAT(${sqlLit(`${JSON.stringify(inner)}:`)}, ${j}) END`);
      }
    }
    const parts = order.map((o) =>
      o.startsWith('t:')
        ? top[Number(o.slice(2))]!
        : `CONCAT(${sqlLit(`${JSON.stringify(o.slice(2))}:{`)}, CONCAT_WS(',', ${nested.get(o.slice(2))!.join(', ')}), '}')`,
    );
    // CONCAT_WS skips NULL arguments (and gives '' when all are NULL): nested keys are omitted when null.
    return `CONCAT('{', CONCAT_WS(',', ${parts.join(',\n    ')}), '}')`;
  }
}

/** A short hash of the mapping and the SKU rule (documentation and tests; the job name carries the spec hash). */
export function mappingHash(mapping: MappingRule[] = MAPPING, skuRule?: SkuNormalisation): string {
  return createHash('sha256').update(JSON.stringify([MAPPING_VERSION, mapping, skuRule ?? null])).digest('hex').slice(0, 12);
}

/** `CREATE TABLE` of one raw source topic (RAW key and value, partition/offset/timestamp metadata, processing time). */
function rawSourceDdl(table: string, topic: string, bootstrap: string, groupId: string, extra = ''): string {
  return `CREATE TABLE ${ident(table)} (
  k STRING,
  v STRING,
  src_topic STRING METADATA FROM 'topic' VIRTUAL,
  src_partition INT METADATA FROM 'partition' VIRTUAL,
  src_offset BIGINT METADATA FROM 'offset' VIRTUAL,
  src_ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
  proc AS PROCTIME()${extra}
) WITH (
  'connector' = 'kafka', 'topic' = ${sqlLit(topic)}, 'properties.bootstrap.servers' = ${sqlLit(bootstrap)},
  'properties.group.id' = ${sqlLit(groupId)}, 'scan.startup.mode' = 'group-offsets', 'properties.auto.offset.reset' = 'earliest',
  'properties.isolation.level' = 'read_committed',
  'key.format' = 'raw', 'key.fields' = 'k', 'value.format' = 'raw', 'value.fields-include' = 'EXCEPT_KEY'
)`;
}

/** The source tables of the raw topics and the `raw_all` view over them. */
export function rawSourceStatements(topics: PipelineTopics, bootstrap: string, groupId: string, prefix = 'raw'): string[] {
  const tables = SOURCE_PLATFORMS.map((p) => `${prefix}_${p}`);
  return [
    ...SOURCE_PLATFORMS.map((p, i) => rawSourceDdl(tables[i]!, topics.raw[p], bootstrap, groupId)),
    `CREATE TEMPORARY VIEW ${prefix}_all AS\n${tables.map((t) => `SELECT k, v, src_topic, src_partition, src_offset, src_ts, proc FROM ${ident(t)}`).join('\nUNION ALL\n')}`,
  ];
}

/** Session configuration shared by the transform jobs (checkpoints, parallelism). */
export function jobConfig(opts: Pick<FlinkTransformJobOptions, 'checkpointIntervalMs' | 'checkpointUri' | 'parallelism' | 'stateTtlMs'>): Record<string, string> {
  return {
    'execution.checkpointing.interval': `${opts.checkpointIntervalMs} ms`,
    ...(opts.checkpointUri ? { 'execution.checkpointing.dir': opts.checkpointUri } : {}),
    'execution.checkpointing.externalized-checkpoint-retention': 'RETAIN_ON_CANCELLATION',
    'parallelism.default': String(opts.parallelism),
    'table.exec.state.ttl': `${opts.stateTtlMs ?? 600_000} ms`,
    'table.local-time-zone': 'UTC',
  };
}

/** The Flink SQL job of the transform: raw topics → canonical topic (keyed by SKU) + Flink dead-letter topic. */
export function flinkJobFor(mapping: MappingRule[], opts: FlinkTransformJobOptions): FlinkSqlJob {
  if (mapping.length === 0) throw new TypeError('the mapping has no rule');
  const bs = opts.brokers.join(',');
  const kinds = [...new Set(mapping.map((r) => r.kind))];
  const sinkGuarantee =
    opts.deliveryGuarantee === 'exactly-once'
      ? `'sink.delivery-guarantee' = 'exactly-once', 'sink.transactional-id-prefix' = ${sqlLit(opts.name.replace(/[^A-Za-z0-9._-]/g, '_'))}, 'properties.transaction.timeout.ms' = '600000'`
      : `'sink.delivery-guarantee' = 'at-least-once'`;

  const statements: string[] = [
    ...rawSourceStatements(opts.topics, bs, opts.groupId),
    `CREATE TABLE canonical_sink (
  k STRING,
  v STRING,
  headers MAP<STRING, BYTES> METADATA
) WITH (
  'connector' = 'kafka', 'topic' = ${sqlLit(opts.topics.canonical)}, 'properties.bootstrap.servers' = ${sqlLit(bs)},
  'key.format' = 'raw', 'key.fields' = 'k', 'value.format' = 'raw', 'value.fields-include' = 'EXCEPT_KEY',
  ${sinkGuarantee}
)`,
    `CREATE TABLE flink_dead_letters (
  reason STRING, detail STRING, src_topic STRING, src_partition INT, src_offset BIGINT, src_key STRING,
  payload STRING, event_id STRING, source_key STRING, failed_at BIGINT
) WITH (
  'connector' = 'kafka', 'topic' = ${sqlLit(opts.dlqTopic)}, 'properties.bootstrap.servers' = ${sqlLit(bs)},
  'format' = 'json', 'json.encode.ignore-null-fields' = 'false', 'sink.delivery-guarantee' = 'at-least-once'
)`,
    // Validity: JSON.parse-strict (Jackson ignores trailing garbage, so a sentinel element must follow the value).
    `CREATE TEMPORARY VIEW raw_json AS
SELECT k, v, src_topic, src_partition, src_offset, proc,
  COALESCE(JSON_VALUE(CONCAT('[', v, ${sqlLit(`,"${EOF_SENTINEL}"]`)}), '$[1]') = ${sqlLit(EOF_SENTINEL)}, FALSE) AS ok_json,
  REGEXP(v, '^[ \\t\\n\\r]*null[ \\t\\n\\r]*$') AS null_literal
FROM raw_all WHERE v IS NOT NULL`,
    `CREATE TEMPORARY VIEW raw_fields AS
SELECT k, v, src_topic, src_partition, src_offset, proc, ok_json,
  ${once(typedAt('v', "'$.eventId'"))} AS event_id_t,
  ${once(typedAt('v', "'$.platform'"))} AS platform_t,
  ${once(typedAt('v', "'$.instance'"))} AS instance_t,
  ${once(typedAt('v', "'$.payload.kind'"))} AS kind_t,
  ${once(typedAt('v', "'$.entityRef'"))} AS entity_t
FROM raw_json WHERE NOT COALESCE(null_literal, FALSE)`,
    `CREATE TEMPORARY VIEW raw_checked AS
SELECT *,
  CASE WHEN NOT ok_json THEN 'MALFORMED_JSON'
       WHEN NOT raw_ok THEN 'NOT_A_RAW_EVENT'
       WHEN kind_s NOT IN (${kinds.map(sqlLit).join(', ')}) THEN 'UNKNOWN_KIND'
       ELSE CAST(NULL AS STRING) END AS reject
FROM (
  SELECT *,
    ${once(`CASE WHEN event_id_t LIKE '"%' THEN ${decodeString('event_id_t')} ELSE CAST(NULL AS STRING) END`)} AS event_id_s,
    ${once(`CASE WHEN platform_t IS NULL OR platform_t IN ('""', 'false', '0') THEN CAST(NULL AS STRING)
         WHEN platform_t = '"erp"' THEN 'erp'
         ELSE CONCAT(${jsString('platform_t')}, ':', COALESCE(${jsString('instance_t')}, 'undefined')) END`)} AS source_key_s,
    ${once(`CASE WHEN platform_t = '"erp"' THEN 'erp' ELSE CONCAT(${jsString('platform_t')}, ':', COALESCE(${jsString('instance_t')}, 'undefined')) END`)} AS source_s,
    ${once(`CASE WHEN kind_t LIKE '"%' THEN ${decodeString('kind_t')} ELSE CAST(NULL AS STRING) END`)} AS kind_s,
    ${once(`COALESCE(${jsString('entity_t')}, 'undefined')`)} AS entity_s
  FROM (
    SELECT *, COALESCE(ok_json AND event_id_t LIKE '"%' AND platform_t LIKE '"%' AND instance_t LIKE '"%' AND kind_t LIKE '"%', FALSE) AS raw_ok
    FROM raw_fields))`,
  ];

  const canonical: string[] = [];
  const noSkuRows: string[] = [];
  for (const kind of kinds) {
    const rules = mapping.filter((r) => r.kind === kind);
    const cols = new KindColumns();
    const ruleViews: Array<{ view: string; sql: string }> = [];
    const totals: string[] = [];
    for (const rule of rules) {
      if (!/^[a-z][a-z0-9_]*$/.test(rule.id)) throw new TypeError(`mapping rule id ${rule.id} must be lower snake case`);
      if (!rule.fields.sku) throw new TypeError(`mapping rule ${rule.id} has no sku field (the canonical key)`);
      const explodePath = rule.explode ? splitPath(rule.explode) : null;
      if (explodePath && explodePath.root !== 'record') throw new TypeError(`rule ${rule.id}: explode must name an array of the event or payload`);
      const arr = explodePath ? cols.array(explodePath.jsonPath) : null;
      const c = new RuleCompiler(rule, cols, opts.skuRule, explodePath?.jsonPath ?? null);
      const conds = rule.where.map((w) => c.cond(w));
      if (arr) conds.unshift('ord IS NOT NULL');
      const passes = conds.length ? conds.map((x) => `(${x})`).join('\n    AND ') : 'TRUE';
      const key = c.str(rule.fields.sku);
      const source = rule.fields.source ? c.str(rule.fields.source) : 'source_s';
      const doc = c.document();
      const view = `rule_${rule.id}`;
      totals.push(arr ? `GREATEST(COALESCE(CARDINALITY(${arr}), 0), 1)` : '1');
      ruleViews.push({
        view,
        sql: `CREATE TEMPORARY VIEW ${view} AS
SELECT src_topic, src_partition, src_offset, proc, k, v, kind_s, entity_s, event_id_s, source_key_s, source_s, total_rows, empty_ok,
  COALESCE(${passes}, FALSE) AS passes,
  ${key} AS out_key,
  ${doc} AS out_value,
  ${sqlLit(rule.emit)} AS out_type,
  ${source} AS out_source
FROM (
  SELECT *${[...c.skuCols].map(([sql, col]) => `,\n    ${once(sql)} AS ${col}`).join('')}
  FROM (
    SELECT *${[...c.itemCols].map(([sql, col]) => `,\n      ${once(sql)} AS ${col}`).join('')}
    FROM kind_${kind}${arr ? `\n    LEFT JOIN UNNEST(${arr}) WITH ORDINALITY AS u(item_s, ord) ON TRUE` : ''}))`,
      });
      canonical.push(`SELECT out_key, out_value, out_type, out_source FROM ${view} WHERE passes`);
      noSkuRows.push(`SELECT src_topic, src_partition, src_offset, proc, k, v, kind_s, entity_s, event_id_s, source_key_s, total_rows, empty_ok, CASE WHEN passes THEN 1 ELSE 0 END AS hit FROM ${view}`);
    }
    const emptyPath = EMPTY_IS_NOTHING_TO_SYNC[kind];
    const emptyArr = emptyPath ? cols.array(splitPath(emptyPath).jsonPath) : null;
    const emptyOk = emptyArr ? `COALESCE(CARDINALITY(${emptyArr}) = 0, FALSE)` : 'FALSE';
    const valueCols = [...cols.values].map(([p, col]) => `  ${once(typedAt('v', sqlLit(p)))} AS ${col},`);
    const arrayCols = [...cols.arrays].map(([p, col]) => `  ${once(`JSON_QUERY(v, ${sqlLit(p)} RETURNING ARRAY<STRING>)`, 'ARRAY<STRING>')} AS ${col},`);
    statements.push(`CREATE TEMPORARY VIEW kind_${kind} AS
SELECT *, ${totals.join(' + ')} AS total_rows, ${emptyOk} AS empty_ok FROM (
SELECT src_topic, src_partition, src_offset, proc, k, v, kind_s, entity_s, event_id_s, source_key_s, source_s,
${[...valueCols, ...arrayCols].join('\n')}
  1 AS one_
FROM raw_checked WHERE reject IS NULL AND kind_s = ${sqlLit(kind)})`);
    for (const rv of ruleViews) statements.push(rv.sql);
  }

  statements.push(`CREATE TEMPORARY VIEW no_sku_rows AS\n${noSkuRows.join('\nUNION ALL\n')}`);
  statements.push(`CREATE TEMPORARY VIEW no_sku AS
SELECT * FROM (
  SELECT src_topic, src_partition, src_offset, k, v, kind_s, entity_s, event_id_s, source_key_s, total_rows, empty_ok,
    COUNT(*) OVER w AS seen, SUM(hit) OVER w AS hits
  FROM no_sku_rows
  WINDOW w AS (PARTITION BY src_topic, src_partition, src_offset ORDER BY proc ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
) WHERE seen = total_rows AND hits = 0 AND NOT empty_ok`);

  const now = epochMs('CURRENT_TIMESTAMP');
  const statementSet = [
    `INSERT INTO canonical_sink
SELECT out_key, out_value, MAP['syncctl-type', ENCODE(out_type, 'UTF-8'), 'syncctl-source', ENCODE(COALESCE(out_source, ''), 'UTF-8')]
FROM (
${canonical.join('\nUNION ALL\n')}
)`,
    `INSERT INTO flink_dead_letters
SELECT reject,
  CASE reject WHEN 'MALFORMED_JSON' THEN 'raw message is not valid JSON'
              WHEN 'NOT_A_RAW_EVENT' THEN 'message is not a syncctl raw event'
              ELSE CONCAT('payload kind ', kind_s, ' has no mapping rule') END,
  src_topic, src_partition, src_offset, k, v,
  CASE WHEN reject = 'MALFORMED_JSON' THEN CAST(NULL AS STRING) ELSE event_id_s END,
  CASE WHEN reject = 'MALFORMED_JSON' THEN CAST(NULL AS STRING) ELSE source_key_s END,
  ${now}
FROM raw_checked WHERE reject IS NOT NULL
UNION ALL
SELECT 'NO_SKU', CONCAT(kind_s, ' ', entity_s, ' names no SKU that can be matched'),
  src_topic, src_partition, src_offset, k, v, event_id_s, source_key_s, ${now}
FROM no_sku`,
  ];

  return { name: opts.name, statements, statementSet, config: jobConfig(opts) };
}
