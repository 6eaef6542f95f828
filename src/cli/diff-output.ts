import chalk from 'chalk';
import type { Difference, DiffSummary } from '../services/diff/index.js';
import { table } from './render.js';

/** The `--json` result of `syncctl diff` (documented in docs/operations.md). */
export interface DiffJson {
  /** `<a>-><b>`, e.g. `shopify:main->woocommerce:outlet`. */
  pair: string;
  a: string;
  b: string;
  fields: string[];
  summary: DiffSummary;
  /** The first `--limit` differences in SKU order (all with `--limit 0`). */
  differences: Difference[];
  /** More differences exist than `differences` holds. */
  truncated: boolean;
  inSync: boolean;
  seconds: number;
  /** With `--fix`: what was submitted to the pipeline. */
  fix?: { submittedSkus: number; events: number; stored: number; alreadyKnown: number; notFixable: number };
}

const LABELS: Array<[keyof DiffSummary, string]> = [['missingOnA', 'missing on a'], ['missingOnB', 'missing on b'], ['duplicates', 'duplicate SKUs'], ['quantity', 'quantity differs'], ['sharedStock', 'shared stock pool'], ['price', 'price differs'], ['title', 'title differs']];

/** The summary and the first differences as text for a person. */
export function renderDiff(r: DiffJson): string {
  const s = r.summary;
  const head = `${chalk.bold(r.a)} (a) vs ${chalk.bold(r.b)} (b): ${s.compared} SKUs on both sides, ${s.rows.a} / ${s.rows.b} rows read, fields ${r.fields.join(', ')}, ${r.seconds.toFixed(1)} s`;
  const counts = table(['DIFFERENCE', 'SKUS'], LABELS.filter(([k]) => k !== 'title' || r.fields.includes('title')).map(([k, label]) => [label, s[k] ? chalk.yellow(String(s[k])) : '0']));
  const blanks = s.blankSkus.a + s.blankSkus.b ? `\n${chalk.dim(`rows without a SKU (not comparable): a ${s.blankSkus.a}, b ${s.blankSkus.b}`)}` : '';
  const parts = [head, counts + blanks];
  if (r.differences.length) {
    const rows = r.differences.map((d) => [d.sku, d.kind.replace(/_/g, ' '), cell(d.a), cell(d.b)]);
    parts.push(`${r.truncated ? `First ${r.differences.length} differences (--limit; --csv lists all):` : 'Differences:'}\n${table(['SKU', 'KIND', `A (${r.a})`, `B (${r.b})`], rows)}`);
  }
  if (r.fix) {
    const f = r.fix;
    parts.push(`Submitted ${f.submittedSkus} SKU(s) to the pipeline (${f.stored} new raw events, ${f.alreadyKnown} already known); the engine decides the writes.` +
      (f.notFixable ? `\n${chalk.yellow(`${f.notFixable} missing or duplicate SKU(s) need a person: create or fix the product on the platform.`)}` : ''));
  }
  parts.push(r.inSync ? chalk.green('In sync.') : chalk.red('Drift found.'));
  return parts.join('\n\n');
}

const cell = (v: string | number | null): string => (v === null ? chalk.dim('-') : String(v));

/** The CSV header of `--csv`. */
export const CSV_HEADER = 'sku,kind,a,b';

/** One difference as a CSV line (RFC 4180 quoting). */
export function csvLine(d: Difference): string {
  return [d.sku, d.kind, d.a, d.b].map(csvCell).join(',');
}

function csvCell(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
