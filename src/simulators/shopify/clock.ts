/** Where the simulator reads the time: real by default, injectable (and compressible) in tests. */
export interface SimClock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The wall clock. */
export const systemClock: SimClock = { now: () => Date.now() };

/** A clock that only moves when told to, for tests of the leaky bucket and timestamps. */
export class ManualClock implements SimClock {
  constructor(private ms: number = Date.parse('2026-11-25T12:00:00Z')) {}
  now(): number {
    return this.ms;
  }
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    this.ms += ms;
  }
  /** Sets the clock to an absolute time (ms since the epoch). */
  set(ms: number): void {
    this.ms = ms;
  }
}

/** ISO-8601 in UTC with second precision, as GraphQL `DateTime` values are rendered by Shopify. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** ISO-8601 with the shop's UTC offset (e.g. `2026-01-01T08:00:00-04:00`), as REST webhook payloads carry. */
export function isoWithOffset(ms: number, offsetMinutes: number): string {
  const local = new Date(Math.floor(ms / 1000) * 1000 + offsetMinutes * 60_000).toISOString().slice(0, 19);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
