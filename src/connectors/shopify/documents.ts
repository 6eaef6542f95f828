/**
 * The GraphQL documents the Shopify connector sends. They live in `./graphql/*.graphql` (validated
 * against the simulator's subset of Shopify's schema by a test) and are loaded once, next to the
 * compiled module. Also: the static cost estimate the cost bucket waits for, the aliasing of a
 * one-field template into a batched document, and the inlining of variables (bulk queries take none).
 */
import { readFileSync } from 'node:fs';
import {
  Kind, parse, print, visit,
  type DocumentNode, type FieldNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode,
  type ValueNode, type VariableDefinitionNode,
} from 'graphql';

/** A parsed document ready to send. */
export interface ShopifyDocument {
  /** Operation name (the file name), used in logs and as the cost-learning key. */
  name: string;
  /** The text sent to Shopify. */
  text: string;
  ast: DocumentNode;
}

const cache = new Map<string, ShopifyDocument>();

/** Loads `./graphql/<name>.graphql` (cached). */
export function loadDocument(name: string): ShopifyDocument {
  let doc = cache.get(name);
  if (!doc) {
    const text = readFileSync(new URL(`./graphql/${name}.graphql`, import.meta.url), 'utf8');
    doc = { name, text, ast: parse(text) };
    cache.set(name, doc);
  }
  return doc;
}

/** Builds a document from an AST (aliased or inlined variants of a file). */
export function documentFromAst(name: string, ast: DocumentNode): ShopifyDocument {
  return { name, text: print(ast), ast };
}

type Fragments = Record<string, FragmentDefinitionNode>;

function* fieldsOf(sel: SelectionSetNode | undefined, fragments: Fragments): Generator<FieldNode> {
  if (!sel) return;
  for (const s of sel.selections) {
    if (s.kind === Kind.FIELD) yield s;
    else if (s.kind === Kind.INLINE_FRAGMENT) yield* fieldsOf(s.selectionSet, fragments);
    else {
      const f = fragments[s.name.value];
      if (f) yield* fieldsOf(f.selectionSet, fragments);
    }
  }
}

function intArg(field: FieldNode, name: string, vars: Record<string, unknown>): number | null {
  const a = field.arguments?.find((x) => x.name.value === name);
  if (!a) return null;
  if (a.value.kind === Kind.INT) return Number(a.value.value);
  if (a.value.kind === Kind.VARIABLE) {
    const v = vars[a.value.name.value];
    return typeof v === 'number' ? v : null;
  }
  return null;
}

/**
 * Shopify's documented cost rules, computed without the schema: a mutation field costs 10; in a
 * query, a leaf (no selection) costs 0, an object 1, and a connection (a field paged with
 * `first`/`last`) 2 + page size × the cost of one node. The client corrects this estimate with the
 * `requestedQueryCost` Shopify reports, so a rule Shopify prices differently is learnt after one call.
 */
export function estimateCost(doc: DocumentNode, vars: Record<string, unknown> = {}): number {
  const fragments: Fragments = {};
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
  const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (!op) return 0;
  if (op.operation === 'mutation') return 10 * [...fieldsOf(op.selectionSet, fragments)].length;
  const nodeCost = (conn: FieldNode): number => {
    let best = 0;
    for (const f of fieldsOf(conn.selectionSet, fragments)) {
      if (f.name.value === 'nodes') best = Math.max(best, 1 + selCost(f.selectionSet));
      if (f.name.value === 'edges') {
        for (const e of fieldsOf(f.selectionSet, fragments)) if (e.name.value === 'node') best = Math.max(best, 1 + selCost(e.selectionSet));
      }
    }
    return best;
  };
  const selCost = (sel: SelectionSetNode | undefined): number => {
    let total = 0;
    for (const f of fieldsOf(sel, fragments)) {
      if (!f.selectionSet) continue;
      const size = intArg(f, 'first', vars) ?? intArg(f, 'last', vars);
      total += size !== null ? 2 + size * nodeCost(f) : 1 + selCost(f.selectionSet);
    }
    return total;
  };
  return selCost(op.selectionSet);
}

/**
 * Repeats the single root field of a template `count` times under aliases `f0..f<n-1>`. Variables
 * listed in `perAlias` are renamed `$<name>_<i>` for each copy; the others are shared.
 * Shopify has no `nodes(ids:)` in our subset, so batching many lookups in one request is done this way.
 */
export function aliasedDocument(template: ShopifyDocument, count: number, perAlias: string[]): ShopifyDocument {
  const op = template.ast.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (!op || op.selectionSet.selections.length !== 1 || op.selectionSet.selections[0]!.kind !== Kind.FIELD) {
    throw new TypeError(`${template.name} is not a one-field template`);
  }
  const field = op.selectionSet.selections[0] as FieldNode;
  const rename = (node: FieldNode, i: number): FieldNode =>
    visit(node, { Variable: (v) => (perAlias.includes(v.name.value) ? { ...v, name: { ...v.name, value: `${v.name.value}_${i}` } } : undefined) });
  const selections: FieldNode[] = [];
  for (let i = 0; i < count; i++) selections.push({ ...rename(field, i), alias: { kind: Kind.NAME, value: `f${i}` } });
  const defs: VariableDefinitionNode[] = [];
  for (const d of op.variableDefinitions ?? []) {
    if (!perAlias.includes(d.variable.name.value)) defs.push(d);
    else for (let i = 0; i < count; i++) defs.push({ ...d, variable: { ...d.variable, name: { ...d.variable.name, value: `${d.variable.name.value}_${i}` } } });
  }
  const newOp: OperationDefinitionNode = { ...op, variableDefinitions: defs, selectionSet: { ...op.selectionSet, selections } };
  return documentFromAst(`${template.name}x${count}`, { ...template.ast, definitions: template.ast.definitions.map((d) => (d === op ? newOp : d)) });
}

function literal(value: unknown): ValueNode {
  if (value === null || value === undefined) return { kind: Kind.NULL };
  if (typeof value === 'string') return { kind: Kind.STRING, value };
  if (typeof value === 'boolean') return { kind: Kind.BOOLEAN, value };
  if (typeof value === 'number') return Number.isInteger(value) ? { kind: Kind.INT, value: String(value) } : { kind: Kind.FLOAT, value: String(value) };
  throw new TypeError(`cannot inline ${typeof value}`);
}

/** Replaces variables by literal values and drops their definitions (bulk queries take no variables). */
export function inlineVariables(template: ShopifyDocument, vars: Record<string, string | number | boolean | null>): ShopifyDocument {
  const ast = visit(template.ast, {
    VariableDefinition: (d) => (d.variable.name.value in vars ? null : undefined),
    Variable: (v) => (v.name.value in vars ? literal(vars[v.name.value]) : undefined),
  });
  return documentFromAst(template.name, ast);
}
