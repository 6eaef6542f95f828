import chalk from 'chalk';
import type { StackComponentStatus } from '../stack/component.js';

/** A plain text table (no borders), columns padded; colours only when stdout is a TTY (chalk decides). */
export function table(headers: string[], rows: string[][]): string {
  const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
  const widths = headers.map((h, i) => Math.max(strip(h).length, ...rows.map((r) => strip(r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c + ' '.repeat(Math.max(0, widths[i]! - strip(c).length))).join('  ').trimEnd();
  return [chalk.bold(line(headers)), ...rows.map(line)].join('\n');
}

/** "ok" / "down" coloured by health. */
export const health = (ok: boolean, text = ok ? 'ok' : 'down'): string => (ok ? chalk.green(text) : chalk.red(text));

/** The stack status as a table. */
export function renderStack(list: StackComponentStatus[]): string {
  return table(
    ['COMPONENT', 'STATE', 'PORT', 'PID', 'MANAGED', 'DETAIL'],
    list.map((s) => [s.component, health(s.ready, s.ready ? 'ready' : s.running ? 'starting' : 'down'), String(s.port ?? ''), String(s.pid ?? ''), s.managed ? 'yes' : 'no', s.detail ?? '']),
  );
}
