import { createHash } from 'node:crypto';

/**
 * A seeded pseudo-random stream (mulberry32), shared by the simulators: the same seed gives the
 * same catalog, traffic and faults on every machine.
 */
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

  /** True with probability `percent` / 100 (settings given in percent). */
  percent(percent: number): boolean {
    return percent > 0 && this.next() * 100 < percent;
  }

  /** One element of a non-empty list. */
  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.next() * list.length)]!;
  }

  /** A random UUID-shaped string drawn from this stream (deterministic). */
  uuid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.next() * 16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
}

/** An independent stream named `name` for a store's `seed`, so streams do not disturb each other. */
export function randomStream(seed: number, name: string): SeededRandom {
  return new SeededRandom(createHash('sha256').update(`${seed}:${name}`).digest().readUInt32LE(0));
}

/** A stable 32-bit hash of a string (first 4 bytes of SHA-1): per-SKU values are the same in every simulator. */
export function hashToUint32(s: string): number {
  return createHash('sha1').update(s).digest().readUInt32BE(0);
}

/** A stable number in [0, 1) for a key (FNV-1a), for per-SKU catalog values. */
export function hashUnit(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 4294967296;
}
