import { createHash } from 'node:crypto';

/** A seeded pseudo-random generator (mulberry32): same seed, same sequence, on every machine. */
export class SeededRandom {
  private state: number;
  constructor(seed: number | string) {
    this.state = typeof seed === 'number' ? seed >>> 0 : hashToUint32(seed);
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  /** True with probability `p` (0..1). */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }
  /** A random UUID-shaped string drawn from this stream (deterministic). */
  uuid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.next() * 16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
}

/** A stable 32-bit hash of a string, so values derived from a SKU are the same in every store. */
export function hashToUint32(s: string): number {
  return createHash('sha1').update(s).digest().readUInt32BE(0);
}
