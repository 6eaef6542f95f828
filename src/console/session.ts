import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** One logged-in browser. */
export interface ConsoleSession {
  id: string;
  /** The per-session token every form POST must carry (`_csrf`). */
  csrf: string;
  createdAt: number;
  expiresAt: number;
}

/**
 * Console sessions: a random 256-bit id in an HttpOnly cookie, kept in this process's memory with
 * its CSRF token; a session expires `ttlMs` after login (absolute, no sliding), and a restart of the
 * daemon ends every session (operators paste the token again).
 */
export class SessionStore {
  private readonly sessions = new Map<string, ConsoleSession>();
  constructor(private readonly ttlMs: number, private readonly now: () => number = Date.now) {}

  create(): ConsoleSession {
    this.sweep();
    const s: ConsoleSession = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'), createdAt: this.now(), expiresAt: this.now() + this.ttlMs };
    this.sessions.set(key(s.id), s);
    return s;
  }

  /** The live session of a cookie value, or undefined (unknown or expired). */
  get(id: string | undefined): ConsoleSession | undefined {
    if (!id) return undefined;
    // Looked up by digest: the map's own string compare never runs on the secret itself.
    const k = key(id);
    const s = this.sessions.get(k);
    if (!s) return undefined;
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(k);
      return undefined;
    }
    return s;
  }

  delete(id: string | undefined): void {
    if (id) this.sessions.delete(key(id));
  }

  get size(): number {
    return this.sessions.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [k, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(k);
  }
}

const key = (id: string): string => digest(id).toString('hex');

export const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time equality of two secrets of any length. */
export const sameSecret = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));

/** Parses a Cookie header into name → value. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), decodeURIComponent(part.slice(i + 1).trim()));
  }
  return out;
}
