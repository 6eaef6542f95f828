import {
  getNamedType, isLeafType, isObjectType, Kind, parse, validate,
  type DocumentNode, type ExecutionResult, type FieldNode, type FragmentDefinitionNode, type GraphQLNamedType,
  type GraphQLSchema, type SelectionSetNode,
} from 'graphql';
import type { Logger } from '../../core/logger.js';
import { isoSeconds, type SimClock } from './clock.js';
import type { BulkWindow } from './context.js';
import { isConnectionType } from './cost.js';
import { gid } from './gid.js';
import type { ResolverMap } from './resolvers-query.js';
import type { SeededRandom } from '../random.js';

/** A bulk operation (only bulk queries are simulated). */
export interface BulkOperationRec {
  id: number;
  status: 'CREATED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELED' | 'EXPIRED';
  type: 'QUERY';
  query: string;
  createdAt: number;
  completedAt: number | null;
  errorCode: 'ACCESS_DENIED' | 'INTERNAL_SERVER_ERROR' | 'TIMEOUT' | null;
  objectCount: number;
  rootObjectCount: number;
  fileSize: number | null;
  token: string;
  jsonl: string | null;
}

/** What the bulk runner needs from the server. */
export interface BulkDeps {
  schema: GraphQLSchema;
  /** Executes a bulk query; with a window, only that chunk of its root connection. */
  execute: (doc: DocumentNode, window?: BulkWindow) => Promise<ExecutionResult>;
  clock: SimClock;
  latencyMs: number;
  baseUrl: () => string;
  rng: SeededRandom;
  onFinish: (op: BulkOperationRec) => void;
  log: Logger;
}

type Fragments = Record<string, FragmentDefinitionNode>;
const MAX_CONNECTIONS = 5;
const MAX_DEPTH = 2;
/** Root nodes per chunk of a bulk query: each chunk's result tree is short-lived, which keeps garbage collection cheap. */
const BULK_CHUNK = 250;

function* fields(sel: SelectionSetNode | undefined, fr: Fragments): Generator<FieldNode> {
  if (!sel) return;
  for (const s of sel.selections) {
    if (s.kind === Kind.FIELD) yield s;
    else if (s.kind === Kind.INLINE_FRAGMENT) yield* fields(s.selectionSet, fr);
    else { const f = fr[s.name.value]; if (f) yield* fields(f.selectionSet, fr); }
  }
}

const fieldType = (parent: GraphQLNamedType, name: string): GraphQLNamedType | null =>
  isObjectType(parent) && parent.getFields()[name] ? getNamedType(parent.getFields()[name]!.type) : null;

/** The node selection of a connection field (`edges { node }` or `nodes`). */
function nodeSelection(conn: FieldNode, connType: GraphQLNamedType, fr: Fragments): { sel: SelectionSetNode | undefined; type: GraphQLNamedType } | null {
  for (const f of fields(conn.selectionSet, fr)) {
    if (f.name.value === 'nodes') return { sel: f.selectionSet, type: fieldType(connType, 'nodes')! };
    if (f.name.value === 'edges') {
      for (const e of fields(f.selectionSet, fr)) if (e.name.value === 'node') return { sel: e.selectionSet, type: fieldType(fieldType(connType, 'edges')!, 'node')! };
    }
  }
  return null;
}

/** Shopify's bulk query rules: at least one connection, at most five, nested at most two deep, parents select `id`. */
function checkShape(schema: GraphQLSchema, doc: DocumentNode): string | null {
  const fr: Fragments = {};
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fr[d.name.value] = d;
  const ops = doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (ops.length !== 1 || ops[0]!.operation !== 'query') return 'Bulk queries must contain exactly one query operation.';
  let count = 0;
  let problem: string | null = null;
  const walk = (sel: SelectionSetNode | undefined, type: GraphQLNamedType, depth: number, parentSelectsId: boolean) => {
    for (const f of fields(sel, fr)) {
      const t = fieldType(type, f.name.value);
      if (!t || isLeafType(t)) continue;
      if (isConnectionType(t)) {
        count++;
        if (depth + 1 > MAX_DEPTH) problem ??= `Bulk queries cannot contain connections with a nesting depth greater than ${MAX_DEPTH}.`;
        if (depth > 0 && !parentSelectsId) problem ??= `The parent of the nested connection '${f.name.value}' must select the 'id' field.`;
        const node = nodeSelection(f, t, fr);
        if (!node) { problem ??= `The connection '${f.name.value}' must select edges { node } or nodes.`; continue; }
        const selectsId = [...fields(node.sel, fr)].some((x) => x.name.value === 'id');
        walk(node.sel, node.type, depth + 1, selectsId);
      } else {
        walk(f.selectionSet, t, depth, parentSelectsId);
      }
    }
  };
  walk(ops[0]!.selectionSet, schema.getQueryType()!, 0, false);
  if (problem) return problem;
  if (count === 0) return 'Bulk queries must contain at least one connection.';
  if (count > MAX_CONNECTIONS) return `Bulk queries cannot contain more than ${MAX_CONNECTIONS} connections.`;
  return null;
}

/** Whether the query's root selects exactly one field, a connection (such a query can run in chunks). */
function singleRootConnection(schema: GraphQLSchema, doc: DocumentNode): boolean {
  const fr: Fragments = {};
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fr[d.name.value] = d;
  const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (!op) return false;
  const root = [...fields(op.selectionSet, fr)];
  const t = root.length === 1 ? fieldType(schema.getQueryType()!, root[0]!.name.value) : null;
  return !!t && isConnectionType(t);
}

/** How one selected field is copied into a JSONL object (the selection flattened once per selection set and type). */
interface FieldPlan {
  key: string;
  field: FieldNode;
  type: GraphQLNamedType | null;
  connection: boolean;
  /** An object (not leaf, not connection) field: its own plan. */
  object: boolean;
}

/** Turns the result tree into JSONL: one line per node, nested connection nodes as separate lines with `__parentId`. */
export function toJsonl(schema: GraphQLSchema, doc: DocumentNode, data: Record<string, unknown>): { lines: string[]; roots: number } {
  const fr: Fragments = {};
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fr[d.name.value] = d;
  const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION)!;
  const lines: string[] = [];
  let roots = 0;
  // Every node of a connection has the same selection: resolve fields and types once, not per node.
  const plans = new Map<SelectionSetNode | undefined, Map<GraphQLNamedType, FieldPlan[]>>();
  const planOf = (sel: SelectionSetNode | undefined, type: GraphQLNamedType): FieldPlan[] => {
    let byType = plans.get(sel);
    if (!byType) plans.set(sel, (byType = new Map()));
    let plan = byType.get(type);
    if (!plan) {
      plan = [];
      for (const f of fields(sel, fr)) {
        const t = fieldType(type, f.name.value);
        const connection = !!t && isConnectionType(t);
        plan.push({ key: f.alias?.value ?? f.name.value, field: f, type: t, connection, object: !!t && !connection && !isLeafType(t) });
      }
      byType.set(type, plan);
    }
    return plan;
  };
  const nodeSelections = new Map<FieldNode, ReturnType<typeof nodeSelection>>();
  const nodeSelectionOf = (f: FieldNode, t: GraphQLNamedType) => {
    if (!nodeSelections.has(f)) nodeSelections.set(f, nodeSelection(f, t, fr));
    return nodeSelections.get(f)!;
  };
  const shape = (value: unknown, sel: SelectionSetNode | undefined, type: GraphQLNamedType, nested: (() => void)[], ownerId: () => unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => shape(v, sel, type, nested, ownerId));
    const out: Record<string, unknown> = {};
    for (const p of planOf(sel, type)) {
      const v = (value as Record<string, unknown>)[p.key];
      if (p.connection) nested.push(() => connection(v, p.field, p.type!, ownerId()));
      else out[p.key] = p.object ? shape(v, p.field.selectionSet, p.type!, nested, ownerId) : v;
    }
    return out;
  };
  const connection = (value: unknown, f: FieldNode, t: GraphQLNamedType, parentId: unknown) => {
    const node = nodeSelectionOf(f, t);
    if (!node || !value || typeof value !== 'object') return;
    const v = value as { edges?: { node: unknown }[]; nodes?: unknown[] };
    const list = v.nodes ?? v.edges?.map((e) => e.node) ?? [];
    for (const n of list) {
      if (parentId === undefined) roots++;
      const nested: (() => void)[] = [];
      const obj = shape(n, node.sel, node.type, nested, () => (n as { id?: unknown }).id) as Record<string, unknown>;
      lines.push(JSON.stringify(parentId === undefined ? obj : { ...obj, __parentId: parentId }));
      for (const run of nested) run();
    }
  };
  const nestedRoot: (() => void)[] = [];
  const rootObj = shape(data, op.selectionSet, schema.getQueryType()!, nestedRoot, () => undefined) as Record<string, unknown>;
  for (const [k, v] of Object.entries(rootObj)) if (v !== undefined && v !== null) { lines.push(JSON.stringify({ [k]: v })); }
  for (const run of nestedRoot) run();
  return { lines, roots };
}

/** Bulk query operations an app may run at once on one shop, from API 2026-01 (before: one). */
export const MAX_CONCURRENT_BULK_QUERIES = 5;

/** Runs bulk queries in the background, up to five at a time per app and shop, and serves their JSONL results. */
export class BulkOperations {
  private readonly ops = new Map<number, BulkOperationRec>();
  private last: BulkOperationRec | null = null;
  private timers = new Set<NodeJS.Timeout>();
  private nextId = 3_100_000_000;
  /** Bulk queries refused with LIMIT_REACHED so far (tests). */
  limitReached = 0;

  constructor(private readonly d: BulkDeps) {}

  /** `bulkOperationRunQuery`: validates and starts a bulk query. */
  run(query: string, _groupObjects: boolean) {
    const invalid = (message: string) => ({ bulkOperation: null, userErrors: [{ field: ['query'], message, code: 'INVALID' }] });
    if (this.running() >= MAX_CONCURRENT_BULK_QUERIES) {
      this.limitReached++;
      return { bulkOperation: null, userErrors: [{ field: null, message: 'Bulk operations limit reached. Please try again later.', code: 'LIMIT_REACHED' }] };
    }
    let doc: DocumentNode;
    try { doc = parse(query); } catch (err) { return invalid(`Invalid bulk query: ${(err as Error).message}`); }
    const errs = validate(this.d.schema, doc);
    if (errs.length > 0) return invalid(`Invalid bulk query: ${errs[0]!.message}`);
    const shape = checkShape(this.d.schema, doc);
    if (shape) return invalid(shape);
    const op: BulkOperationRec = {
      id: ++this.nextId, status: 'CREATED', type: 'QUERY', query, createdAt: this.d.clock.now(), completedAt: null, errorCode: null,
      objectCount: 0, rootObjectCount: 0, fileSize: null, token: this.d.rng.uuid(), jsonl: null,
    };
    this.ops.set(op.id, op);
    this.last = op;
    this.later(Math.floor(this.d.latencyMs / 2), () => {
      op.status = 'RUNNING';
      this.later(Math.ceil(this.d.latencyMs / 2), () => void this.execute(op, doc));
    });
    return { bulkOperation: op, userErrors: [] };
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => { this.timers.delete(t); fn(); }, ms);
    this.timers.add(t);
  }

  /**
   * Executes the query and writes its JSONL. A query whose only root field is a connection runs
   * in chunks of its root nodes (same lines, same order as one execution), in the background as
   * on Shopify: the shop keeps answering between chunks (status polls included, `objectCount`
   * grows), and a write made meanwhile may or may not show in the result. The root list itself
   * is taken once, when the first chunk runs.
   */
  private async execute(op: BulkOperationRec, doc: DocumentNode): Promise<void> {
    const forgotten = () => this.ops.get(op.id) !== op;
    try {
      const chunks: string[] = [];
      let objects = 0;
      let roots = 0;
      const run = async (window?: BulkWindow) => {
        const res = await this.d.execute(doc, window);
        if (res.errors?.length || !res.data) throw new Error(res.errors?.[0]?.message ?? 'no data');
        const out = toJsonl(this.d.schema, doc, res.data as Record<string, unknown>);
        if (out.lines.length > 0) chunks.push(out.lines.join('\n') + '\n');
        objects += out.lines.length;
        roots += out.roots;
        op.objectCount = objects;
      };
      if (!singleRootConnection(this.d.schema, doc)) await run();
      else {
        const window: BulkWindow = { offset: 0, limit: BULK_CHUNK, total: 0, roots: new Map() };
        do {
          await run(window);
          window.offset += BULK_CHUNK;
          await new Promise((resolve) => setImmediate(resolve));
          // A reset or close forgot the operation: stop quietly.
          if (forgotten()) return;
        } while (window.offset < window.total);
      }
      op.jsonl = chunks.length > 0 ? chunks.join('') : null;
      op.objectCount = objects;
      op.rootObjectCount = roots;
      op.fileSize = op.jsonl ? Buffer.byteLength(op.jsonl) : null;
      op.status = 'COMPLETED';
    } catch (err) {
      this.d.log.warn({ err, id: op.id }, 'bulk operation failed');
      op.status = 'FAILED';
      op.errorCode = 'INTERNAL_SERVER_ERROR';
    }
    op.completedAt = this.d.clock.now();
    this.d.onFinish(op);
  }

  /** Bulk queries CREATED or RUNNING. */
  running(): number {
    let n = 0;
    for (const op of this.ops.values()) if (op.status === 'CREATED' || op.status === 'RUNNING') n++;
    return n;
  }

  /** `currentBulkOperation(type:)` (deprecated in 2026-04): the app's latest bulk query. */
  current(type: string): BulkOperationRec | null {
    return type === 'QUERY' ? this.last : null;
  }

  /** `bulkOperation(id:)`. */
  byId(id: number): BulkOperationRec | null {
    return this.ops.get(id) ?? null;
  }

  /** The JSONL of a completed operation, if the token matches. */
  download(id: number, token: string): string | null {
    const op = this.ops.get(id);
    return op && op.token === token ? op.jsonl : null;
  }

  /** The download URL of an operation (null until it has results). */
  urlOf(op: BulkOperationRec): string | null {
    return op.status === 'COMPLETED' && op.jsonl ? `${this.d.baseUrl()}/storage/bulk/${op.id}/${op.token}.jsonl` : null;
  }

  /** Forgets every operation (reset). */
  clear(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.ops.clear();
    this.last = null;
  }

  /** Stops pending timers. */
  close(): void {
    this.clear();
  }

  /** Resolvers of the `BulkOperation` type. */
  resolvers(): ResolverMap {
    return {
      BulkOperation: {
        id: (o: BulkOperationRec) => gid('BulkOperation', o.id),
        createdAt: (o: BulkOperationRec) => isoSeconds(o.createdAt),
        completedAt: (o: BulkOperationRec) => (o.completedAt === null ? null : isoSeconds(o.completedAt)),
        objectCount: (o: BulkOperationRec) => String(o.objectCount),
        rootObjectCount: (o: BulkOperationRec) => String(o.rootObjectCount),
        fileSize: (o: BulkOperationRec) => (o.fileSize === null ? null : String(o.fileSize)),
        url: (o: BulkOperationRec) => this.urlOf(o),
        partialDataUrl: () => null,
      },
    };
  }
}
