import { createHash } from 'node:crypto';

/** A seeded pseudo-random stream (mulberry32): same seed, same sequence. */
export interface RandomStream {
  /** Next number in [0, 1). */
  next(): number;
  /** Integer in [min, max]. */
  int(min: number, max: number): number;
  /** True with probability `percent`/100. */
  chance(percent: number): boolean;
}

/** A 32-bit seed derived from a store seed and a stream name, so streams do not disturb each other. */
export function streamSeed(seed: number, name: string): number {
  return createHash('sha256').update(`${seed}:${name}`).digest().readUInt32LE(0);
}

/** Creates an independent random stream named `name` for `seed`. */
export function randomStream(seed: number, name: string): RandomStream {
  let a = streamSeed(seed, name);
  const next = (): number => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (percent) => percent > 0 && next() * 100 < percent,
  };
}

/** A stable number in [0, 1) for a key (FNV-1a), used for per-SKU catalog values. */
export function hashUnit(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 4294967296;
}
