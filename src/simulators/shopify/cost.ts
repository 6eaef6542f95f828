import {
  GraphQLError, getNamedType, isLeafType, isObjectType, isInterfaceType, valueFromAST, Kind,
  type FieldNode, type FragmentDefinitionNode, type GraphQLField, type GraphQLNamedType, type GraphQLSchema,
  type OperationDefinitionNode, type SelectionSetNode,
} from 'graphql';
import type { SimClock } from './clock.js';

/** Largest page Shopify serves. */
export const MAX_PAGE_SIZE = 250;
/** Largest single query cost Shopify accepts. */
export const MAX_QUERY_COST = 1000;
/** Flat cost of a mutation field. */
export const MUTATION_COST = 10;

type Vars = Record<string, unknown>;
type Fragments = Record<string, FragmentDefinitionNode>;

/** Whether a type is a Relay connection (`XxxConnection` with edges/nodes). */
export function isConnectionType(t: GraphQLNamedType): boolean {
  return isObjectType(t) && t.name.endsWith('Connection') && 'pageInfo' in t.getFields();
}

function fieldDef(parent: GraphQLNamedType, name: string): GraphQLField<unknown, unknown> | undefined {
  return isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
}

/** Resolved value of an argument of a field node (literal or variable). */
export function argValue(node: FieldNode, def: GraphQLField<unknown, unknown>, name: string, vars: Vars): unknown {
  const a = node.arguments?.find((x) => x.name.value === name);
  const d = def.args.find((x) => x.name === name);
  if (!a || !d) return undefined;
  return valueFromAST(a.value, d.type, vars);
}

/** Every field node of a selection set, fragments flattened (sums over type conditions: an upper bound). */
function* fieldsOf(sel: SelectionSetNode | undefined, fragments: Fragments): Generator<FieldNode> {
  if (!sel) return;
  for (const s of sel.selections) {
    if (s.kind === Kind.FIELD) yield s;
    else if (s.kind === Kind.INLINE_FRAGMENT) yield* fieldsOf(s.selectionSet, fragments);
    else { const f = fragments[s.name.value]; if (f) yield* fieldsOf(f.selectionSet, fragments); }
  }
}

/** Static analysis of one operation: requested cost, plus Shopify's page-size errors. */
export interface RequestedCost {
  cost: number;
  errors: GraphQLError[];
}

/**
 * The requested cost of an operation, by Shopify's rules: scalars and enums 0, objects 1,
 * connections 2 + page size × the cost of one node, mutation fields 10. Also checks that every
 * connection has `first` or `last` and that neither exceeds 250.
 */
export function requestedCost(schema: GraphQLSchema, op: OperationDefinitionNode, fragments: Fragments, vars: Vars): RequestedCost {
  const errors: GraphQLError[] = [];
  if (op.operation === 'mutation') {
    let n = 0;
    for (const _ of fieldsOf(op.selectionSet, fragments)) n += MUTATION_COST;
    return { cost: n, errors };
  }
  const selCost = (sel: SelectionSetNode | undefined, parent: GraphQLNamedType, path: string[]): number => {
    let total = 0;
    for (const f of fieldsOf(sel, fragments)) {
      const def = fieldDef(parent, f.name.value);
      if (!def) continue;
      const type = getNamedType(def.type);
      const key = f.alias?.value ?? f.name.value;
      if (isLeafType(type)) continue;
      if (isConnectionType(type)) {
        const first = argValue(f, def, 'first', vars) as number | null | undefined;
        const last = argValue(f, def, 'last', vars) as number | null | undefined;
        const size = first ?? last;
        if (size == null) {
          errors.push(new GraphQLError('you must provide one of first or last', { nodes: [f], path: [...path, key], extensions: { code: 'BAD_REQUEST' } }));
          continue;
        }
        for (const [label, v] of [['first', first], ['last', last]] as const) {
          if (v != null && (v > MAX_PAGE_SIZE || v < 0)) {
            errors.push(new GraphQLError(`Argument '${label}' on Field '${key}' has an invalid value (${v}). Expected a page size from 0 to ${MAX_PAGE_SIZE}.`, { nodes: [f], path: [...path, key], extensions: { code: 'argumentLiteralsIncompatible' } }));
          }
        }
        total += 2 + size * nodeCost(f, type, [...path, key]);
      } else {
        total += 1 + selCost(f.selectionSet, type, [...path, key]);
      }
    }
    return total;
  };
  const nodeCost = (conn: FieldNode, connType: GraphQLNamedType, path: string[]): number => {
    let best = 0;
    for (const f of fieldsOf(conn.selectionSet, fragments)) {
      const def = fieldDef(connType, f.name.value);
      if (!def) continue;
      if (f.name.value === 'nodes') best = Math.max(best, 1 + selCost(f.selectionSet, getNamedType(def.type), path));
      if (f.name.value === 'edges') {
        const edgeType = getNamedType(def.type);
        for (const e of fieldsOf(f.selectionSet, fragments)) {
          const ed = fieldDef(edgeType, e.name.value);
          if (ed && e.name.value === 'node') best = Math.max(best, 1 + selCost(e.selectionSet, getNamedType(ed.type), path));
        }
      }
    }
    return best;
  };
  const cost = selCost(op.selectionSet, schema.getQueryType()!, []);
  return { cost, errors };
}

/** The actual cost of an executed query: like the requested one, with the real number of nodes returned. */
export function actualCost(schema: GraphQLSchema, op: OperationDefinitionNode, fragments: Fragments, data: unknown): number {
  if (op.operation === 'mutation') {
    let n = 0;
    for (const _ of fieldsOf(op.selectionSet, fragments)) n += MUTATION_COST;
    return n;
  }
  const selCost = (sel: SelectionSetNode | undefined, parent: GraphQLNamedType, value: unknown): number => {
    if (value == null || typeof value !== 'object') return 0;
    let total = 0;
    for (const f of fieldsOf(sel, fragments)) {
      const def = fieldDef(parent, f.name.value);
      if (!def) continue;
      const type = getNamedType(def.type);
      if (isLeafType(type)) continue;
      const v = (value as Record<string, unknown>)[f.alias?.value ?? f.name.value];
      if (v == null) continue;
      if (isConnectionType(type)) {
        total += 2 + connCost(f, type, v as Record<string, unknown>);
      } else if (Array.isArray(v)) {
        total += 1 + Math.max(0, ...v.map((item) => selCost(f.selectionSet, type, item)));
      } else {
        total += 1 + selCost(f.selectionSet, type, v);
      }
    }
    return total;
  };
  const connCost = (conn: FieldNode, connType: GraphQLNamedType, v: Record<string, unknown>): number => {
    let best = 0;
    for (const f of fieldsOf(conn.selectionSet, fragments)) {
      const def = fieldDef(connType, f.name.value);
      const list = v[f.alias?.value ?? f.name.value];
      if (!def || !Array.isArray(list)) continue;
      let sum = 0;
      if (f.name.value === 'nodes') for (const node of list) sum += 1 + selCost(f.selectionSet, getNamedType(def.type), node);
      if (f.name.value === 'edges') {
        const edgeType = getNamedType(def.type);
        for (const e of fieldsOf(f.selectionSet, fragments)) {
          const ed = fieldDef(edgeType, e.name.value);
          if (!ed || e.name.value !== 'node') continue;
          for (const edge of list) sum += 1 + selCost(e.selectionSet, getNamedType(ed.type), (edge as Record<string, unknown>)[e.alias?.value ?? 'node']);
        }
      }
      best = Math.max(best, sum);
    }
    return best;
  };
  return selCost(op.selectionSet, schema.getQueryType()!, data);
}

/** `extensions.cost.throttleStatus`. */
export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

/** Shopify's leaky bucket for one app + shop: charge the requested cost up front, refund the unused part. */
export class ShopifyCostBucket {
  private available: number;
  private last: number;

  constructor(private maximumAvailable: number, private restoreRate: number, private readonly clock: SimClock) {
    this.available = maximumAvailable;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    this.available = Math.min(this.maximumAvailable, this.available + ((now - this.last) / 1000) * this.restoreRate);
    this.last = now;
  }

  /** Takes `cost` points if they are all there; false (and nothing taken) when the bucket is short. */
  tryCharge(cost: number): boolean {
    this.refill();
    if (cost > this.available) return false;
    this.available -= cost;
    return true;
  }

  /** Gives back points that a query did not use. */
  refund(points: number): void {
    this.available = Math.min(this.maximumAvailable, this.available + Math.max(0, points));
  }

  /** The status Shopify reports in every response. */
  status(): ThrottleStatus {
    this.refill();
    return { maximumAvailable: this.maximumAvailable, currentlyAvailable: Math.floor(this.available), restoreRate: this.restoreRate };
  }

  /** Changes the plan (bucket size and restore rate), keeping the points already there. */
  setLimits(maximumAvailable: number, restoreRate: number): void {
    this.refill();
    this.maximumAvailable = maximumAvailable;
    this.restoreRate = restoreRate;
    this.available = Math.min(this.available, maximumAvailable);
  }

  /** Fills the bucket (reset). */
  fill(): void {
    this.available = this.maximumAvailable;
    this.last = this.clock.now();
  }
}
