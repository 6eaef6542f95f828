/**
 * The global `_fields` parameter of the WordPress REST API (rest_filter_response_fields): a
 * successful response keeps only the listed fields (comma or space separated), `a.b` reaching into
 * nested objects. A collection is filtered item by item; `_links` stay only when listed. Errors
 * are never filtered.
 */

/** Requested fields as a tree: `true` keeps the whole value, a nested tree keeps part of it. */
type FieldTree = { [key: string]: FieldTree | true };

/** The body with only the fields `_fields` lists (unchanged when it lists none). */
export function filterResponseFields(body: unknown, fieldsParam: string): unknown {
  const fields = fieldsParam.split(/[\s,]+/).filter(Boolean);
  if (fields.length === 0) return body;
  const tree: FieldTree = Object.create(null) as FieldTree;
  for (const field of fields) {
    const parts = field.split('.');
    let ref = tree;
    let skip = false;
    while (parts.length > 1) {
      const next = parts.shift()!;
      // A parent already kept whole keeps its sub-fields too.
      if (ref[next] === true) {
        skip = true;
        break;
      }
      ref = (ref[next] ??= Object.create(null) as FieldTree) as FieldTree;
    }
    if (!skip) ref[parts[0]!] = true;
  }
  return Array.isArray(body) ? body.map((item) => intersect(item, tree)) : intersect(body, tree);
}

/** _rest_array_intersect_key_recursive: keys of `value` present in `tree`, recursively; a list is keyed by position, as PHP arrays are. */
function intersect(value: unknown, tree: FieldTree): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const kept: Array<[string, unknown]> = [];
    value.forEach((v, i) => {
      const sub = Object.hasOwn(tree, String(i)) ? tree[String(i)] : undefined;
      if (sub !== undefined) kept.push([String(i), sub === true || v === null || typeof v !== 'object' ? v : intersect(v, sub)]);
    });
    // A PHP list keeps being a list only while its keys stay 0..n-1.
    return kept.every(([k], i) => k === String(i)) ? kept.map(([, v]) => v) : Object.fromEntries(kept);
  }
  const out: Record<string, unknown> = {};
  const obj = value as Record<string, unknown>;
  for (const k in obj) {
    const sub = Object.hasOwn(tree, k) ? tree[k] : undefined;
    if (sub === undefined || !Object.hasOwn(obj, k)) continue;
    const v = obj[k];
    out[k] = sub === true || v === null || typeof v !== 'object' ? v : intersect(v, sub);
  }
  return out;
}
