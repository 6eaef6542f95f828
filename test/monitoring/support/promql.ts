/**
 * Just enough PromQL lexing to list the metric names an expression selects: strings, label
 * matchers, range/subquery brackets, grouping clauses and `offset` are removed, then every
 * identifier that is not a function call, a keyword or part of a number is a metric name.
 */
const KEYWORDS = new Set([
  'and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan',
  'sum', 'min', 'max', 'avg', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'group',
]);

/** Metric names selected by a PromQL expression (deduplicated, in order of appearance). */
export function promqlMetricNames(expr: string): string[] {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  s = s.replace(/\{[^}]*\}/g, ' ');
  s = s.replace(/\[[^\]]*\]/g, ' ');
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  s = s.replace(/\boffset\s+-?[0-9a-z]+/g, ' ');
  const out: string[] = [];
  for (const m of s.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = m[0];
    const before = s[m.index - 1];
    if (before !== undefined && /[0-9.]/.test(before)) continue; // exponent of a number (1.5e9)
    if (s.slice(m.index + name.length).trimStart().startsWith('(')) continue; // function call
    if (KEYWORDS.has(name.toLowerCase())) continue;
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/** Grafana template variables of syncctl's dashboards, filled in for a live Prometheus. */
export function fillGrafanaVariables(expr: string, vars: Record<string, string>): string {
  return expr
    .replace(/\$__rate_interval|\$\{__rate_interval\}/g, '1m')
    .replace(/\$__interval|\$\{__interval\}/g, '15s')
    .replace(/\$__range|\$\{__range\}/g, '5m')
    .replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, a: string | undefined, b: string | undefined) => {
      const name = a ?? b ?? '';
      if (!(name in vars)) throw new Error(`no value for Grafana variable ${whole} in ${expr}`);
      return vars[name]!;
    });
}
