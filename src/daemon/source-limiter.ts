/**
 * Per-source budget of refused webhook deliveries (forged signatures, unknown instances, junk).
 * Only refusals are charged, so a platform delivering genuine webhooks is never limited; a source
 * that spends its budget is answered 429 before its body is read (no hash, no parsing, no log
 * line, no database) until it earns tokens back. Token bucket per source, bounded memory.
 */
export interface SourceLimiterOptions {
  /** Refusals a source may send in a burst. */
  burst: number;
  /** Refusals per second a source earns back. */
  perSecond: number;
  /** Sources tracked at most (the least recently charged are forgotten first). */
  maxSources?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** The rate limiter of the public listener. */
export class SourceLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly max: number;
  private readonly now: () => number;

  constructor(private readonly opts: SourceLimiterOptions) {
    this.max = opts.maxSources ?? 50_000;
    this.now = opts.now ?? Date.now;
  }

  /** True while `source` has budget left (a request from it may be handled). */
  allows(source: string): boolean {
    const b = this.buckets.get(keyOf(source));
    return !b || this.refill(b) >= 1;
  }

  /** Charges one refused delivery to `source`. */
  charge(source: string): void {
    const key = keyOf(source);
    let b = this.buckets.get(key);
    if (b) {
      this.refill(b);
      this.buckets.delete(key); // re-inserted below: Map order = least recently charged first
    } else {
      b = { tokens: this.opts.burst, at: this.now() };
      if (this.buckets.size >= this.max) this.buckets.delete(this.buckets.keys().next().value!);
    }
    b.tokens = Math.max(0, b.tokens - 1);
    this.buckets.set(key, b);
  }

  /** Sources currently tracked. */
  get size(): number {
    return this.buckets.size;
  }

  private refill(b: Bucket): number {
    const t = this.now();
    b.tokens = Math.min(this.opts.burst, b.tokens + ((t - b.at) / 1000) * this.opts.perSecond);
    b.at = t;
    return b.tokens;
  }
}

/** IPv6 sources are limited per /64 (one host usually owns a whole /64); IPv4 per address. */
function keyOf(ip: string): string {
  const v4 = /^(?:::ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (v4) return v4[1]!;
  if (!ip.includes(':')) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const groups = head.split(':').filter(Boolean);
  const rest = tail.split(':').filter(Boolean);
  const full = [...groups, ...Array(Math.max(0, 8 - groups.length - rest.length)).fill('0'), ...rest];
  return full.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':') + '::/64';
}
