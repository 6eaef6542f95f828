import { readdirSync, readFileSync } from 'node:fs';

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

/** CPU seconds (user + system) used so far by each process group of a run, read from /proc. */
export interface CpuReading {
  /** Per group: `self` (this Node process), `kafka`, `postgres`, `redis`, `connect`. */
  seconds: Record<string, number>;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds of one process (utime + stime, and its waited-for children), or 0 when gone. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // after the comm: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** The pids of every process whose command line matches `test`. */
function pidsMatching(test: (cmdline: string, comm: string) => boolean): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const comm = readFileSync(`/proc/${d}/comm`, 'utf8').trim();
      if (test(cmd, comm)) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * Reads the CPU time of every process a pipeline run costs: this process (daemon stages in
 * process), the Kafka broker, every PostgreSQL backend, Redis (and Kafka Connect, reported apart).
 * The difference of two readings over a run, divided by the changes it handled, is the CPU per
 * change summed over all processes. Backends that exit during the run take their time with them:
 * the run keeps its pools open until the second reading.
 */
export function readCpu(): CpuReading {
  const groups: Record<string, number[]> = {
    self: [process.pid],
    kafka: pidsMatching((c) => c.includes('java') && c.includes('kafka.Kafka')),
    connect: pidsMatching((c) => c.includes('java') && c.includes('ConnectDistributed')),
    postgres: pidsMatching((_c, comm) => comm === 'postgres'),
    redis: pidsMatching((_c, comm) => comm === 'redis-server'),
  };
  const seconds: Record<string, number> = {};
  for (const [g, pids] of Object.entries(groups)) seconds[g] = pids.reduce((s, p) => s + processCpuSeconds(p), 0);
  return { seconds };
}

/** CPU seconds per group between two readings, and their sum over the pipeline's own processes. */
export function cpuBetween(a: CpuReading, b: CpuReading): { perGroup: Record<string, number>; pipelineSeconds: number } {
  const perGroup: Record<string, number> = {};
  for (const g of Object.keys(b.seconds)) perGroup[g] = round(Math.max(0, b.seconds[g]! - (a.seconds[g] ?? 0)), 2);
  const pipelineSeconds = (perGroup.self ?? 0) + (perGroup.kafka ?? 0) + (perGroup.postgres ?? 0) + (perGroup.redis ?? 0);
  return { perGroup, pipelineSeconds };
}
