/**
 * Sync latency of the demo by path, computed from the daemon's `write.applied` events (source
 * change → applied on the target): over a recent window for the live view, and over the whole
 * run for the summary.
 */

/** The paths a change takes, by where it came from and where it was written. */
export type LatencyPath = 'erp→channels' | 'channel→channels' | 'sale→erp' | 'corrections';

/** What each path means, for people (live view, summary, docs). */
export const PATH_LABELS: Record<LatencyPath, string> = {
  'erp→channels': 'ERP change → channels',
  'channel→channels': 'sale on a channel → channels',
  'sale→erp': 'order → ERP',
  'corrections': 'unannounced difference corrected',
};

export const PATHS: LatencyPath[] = ['erp→channels', 'channel→channels', 'sale→erp', 'corrections'];

/** Latency percentiles of one path. */
export interface PathLatency {
  path: LatencyPath;
  p50Ms: number | null;
  p99Ms: number | null;
  samples: number;
}

/**
 * The path of a write: a correction of a difference nobody announced (the daemon's `path`
 * label: its latency includes the settle window by design); else from the ERP; to the ERP (a
 * channel's order); from a channel to the channels (other channels, and the channel of sale set
 * to the authority's value again after its own sale).
 */
export function pathOf(source: string, target: string, path: 'change' | 'correction' = 'change'): LatencyPath {
  if (path === 'correction') return 'corrections';
  if (source === 'erp') return 'erp→channels';
  if (target === 'erp') return 'sale→erp';
  return 'channel→channels';
}

const TOTAL_CAP = 50_000;

export function percentileMs(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! * 1000);
}

/** Latency samples by path: a sliding window and the whole run (capped, oldest dropped). */
export class LatencyPaths {
  private recent: Array<{ at: number; path: LatencyPath; seconds: number }> = [];
  private all = new Map<LatencyPath, number[]>();

  constructor(private readonly windowMs: number, private readonly now: () => number = Date.now) {}

  add(source: string, target: string, latencySeconds: number[], writePath: 'change' | 'correction' = 'change'): void {
    const path = pathOf(source, target, writePath);
    const at = this.now();
    const all = this.all.get(path) ?? [];
    for (const seconds of latencySeconds) {
      this.recent.push({ at, path, seconds });
      all.push(seconds);
    }
    if (all.length > TOTAL_CAP) all.splice(0, all.length - TOTAL_CAP);
    this.all.set(path, all);
  }

  /** Forgets everything (the initial load is not the live traffic's latency). */
  reset(): void {
    this.recent = [];
    this.all.clear();
  }

  /** Per path, over the window (paths without a sample in the window have null percentiles). */
  window(): PathLatency[] {
    const from = this.now() - this.windowMs;
    let drop = 0;
    while (drop < this.recent.length && this.recent[drop]!.at < from) drop++;
    if (drop) this.recent.splice(0, drop);
    const by = new Map<LatencyPath, number[]>();
    for (const r of this.recent) {
      const v = by.get(r.path) ?? [];
      v.push(r.seconds);
      by.set(r.path, v);
    }
    return PATHS.map((path) => stats(path, by.get(path) ?? []));
  }

  /** Per path, over the whole run. */
  byPath(): PathLatency[] {
    return PATHS.map((path) => stats(path, this.all.get(path) ?? []));
  }

  /** All paths together, over the whole run. */
  total(): { p50Ms: number | null; p99Ms: number | null; samples: number } {
    const v = [...this.all.values()].flat();
    return { p50Ms: percentileMs(v, 50), p99Ms: percentileMs(v, 99), samples: v.length };
  }
}

function stats(path: LatencyPath, v: number[]): PathLatency {
  return { path, p50Ms: percentileMs(v, 50), p99Ms: percentileMs(v, 99), samples: v.length };
}
