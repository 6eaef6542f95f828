/**
 * Server-side HTML with strict escaping: every interpolated value is escaped unless it is already
 * {@link Html} (built by the `html` tag itself). There is no other way to put markup in a page.
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escapes text for an element's content or a quoted attribute value. */
export const escapeHtml = (v: unknown): string => String(v).replace(/[&<>"'`]/g, (c) => ESC[c]!);

function render(v: unknown): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(v);
}

/** Tagged template: `html\`<td>${value}</td>\`` escapes `value`; nested `html` results and arrays of them are kept. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new Html(out);
}

/** Markup already produced elsewhere and trusted (e.g. a constant); never user data. */
export const trusted = (s: string): Html => new Html(s);
