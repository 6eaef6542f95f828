/** One measured figure of a benchmark, as written to bench/results/<bench>.json. */
export interface BenchFigure {
  /** What was measured, e.g. `kafka.loopback.throughput`. */
  name: string;
  /** The measured value. */
  value: number;
  /** Its unit, e.g. `msg/s`, `ms`, `MB`, `req/s`. */
  unit: string;
  /** The baseline figure measured in the same run, if this figure is reported as a ratio. */
  baseline?: { name: string; value: number; unit: string };
  /** value / baseline.value, when a baseline is given. */
  ratio?: number;
  /** The target this figure is checked against (informative, never an assertion). */
  target?: string;
  /** Free-form parameters (message size, concurrency, counts). */
  params?: Record<string, unknown>;
}

/** What a benchmark file's default export returns. */
export type BenchFn = () => Promise<BenchFigure[]>;

/** Percentile (0..100) of a list of numbers, nearest-rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const idx = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[idx]!;
}

/** Rounds to `d` decimals, for readable JSON. */
export const round = (v: number, d = 2): number => Math.round(v * 10 ** d) / 10 ** d;
