/**
 * Shopify's search syntax, the part the simulator understands: space- or `AND`-separated
 * terms `field:value`, `field:>value`, `field:>=value`, `field:<value`, `field:<=value`,
 * values optionally quoted with ' or ", and bare words (free text). `OR` and parentheses are
 * not supported: such queries yield a warning and the term is ignored, as Shopify does with
 * terms it cannot use.
 */

/** A comparison operator of a term. */
export type SearchOp = ':' | '>' | '>=' | '<' | '<=';

/** One parsed term. */
export interface SearchTerm {
  /** Field name, lower case, or null for free text. */
  field: string | null;
  op: SearchOp;
  value: string;
  negated: boolean;
}

/** A warning in `extensions.search`, shaped like Shopify's. */
export interface SearchWarning {
  field: string;
  message: string;
  code: string;
}

/** Splits a query string into terms. */
export function parseSearchQuery(query: string): { terms: SearchTerm[]; warnings: SearchWarning[] } {
  const terms: SearchTerm[] = [];
  const warnings: SearchWarning[] = [];
  const re = /\s*(-)?(?:(\w+):(>=|<=|>|<)?)?("([^"]*)"|'([^']*)'|[^\s]+)/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < query.length && (m = re.exec(query))) {
    const raw = m[4]!;
    const value = m[5] !== undefined ? m[5] : m[6] !== undefined ? m[6] : raw;
    if (!m[2] && (raw === 'AND')) continue;
    if (!m[2] && (raw === 'OR' || raw.startsWith('('))) {
      warnings.push({ field: raw, message: 'OR and grouping are not supported by the simulator; term ignored.', code: 'unsupported' });
      continue;
    }
    terms.push({ field: m[2] ? m[2].toLowerCase() : null, op: (m[3] as SearchOp | undefined) ?? ':', value, negated: m[1] === '-' });
    if (/^\s*$/.test(query.slice(re.lastIndex))) break;
  }
  return { terms, warnings };
}

/** Parses a date value of a term (ISO date or date-time, quoted or not); NaN when invalid. */
export function parseSearchDate(value: string): number {
  const v = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  return Date.parse(v);
}

/** Compares `actual` with `bound` under `op` (`:` means equality). */
export function compare(actual: number, op: SearchOp, bound: number): boolean {
  switch (op) {
    case '>': return actual > bound;
    case '>=': return actual >= bound;
    case '<': return actual < bound;
    case '<=': return actual <= bound;
    default: return actual === bound;
  }
}
