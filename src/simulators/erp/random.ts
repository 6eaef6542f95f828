import { createHash } from 'node:crypto';

/** A seeded pseudo-random stream (mulberry32): the same seed gives the same ERP data. */
export class SeededRandom {
  private state: number;

  constructor(seed: string | number) {
    this.state = typeof seed === 'number' ? seed >>> 0 : skuHash(seed);
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** One element of a non-empty list. */
  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.next() * list.length)]!;
  }
}

/** A stable 32-bit hash of a string (first 4 bytes of SHA-1), as the channel simulators use for per-SKU values. */
export function skuHash(s: string): number {
  return createHash('sha1').update(s).digest().readUInt32BE(0);
}
