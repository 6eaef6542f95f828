/** Placeholder printed instead of a secret. */
export const REDACTED = '***redacted***';

const SECRET_KEY = /(token|secret|password|passwd|apikey|api_key|credential|consumerkey)/i;

/** A deep copy of `value` with every secret replaced: keys that name secrets, and passwords inside URLs. */
export function redact<T>(value: T): T {
  return walk(value, '') as T;
}

function walk(v: unknown, key: string): unknown {
  if (Array.isArray(v)) return v.map((x) => walk(x, key));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = walk(x, k);
    return out;
  }
  if (typeof v === 'string') {
    if (SECRET_KEY.test(key) && v.length > 0) return REDACTED;
    return redactUrl(v);
  }
  return v;
}

/** Replaces the password of a URL (`postgres://u:secret@h/db` → `postgres://u:***redacted***@h/db`). */
export function redactUrl(s: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) return s;
  try {
    const u = new URL(s);
    if (!u.password) return s;
    u.password = REDACTED;
    return u.toString().replace(encodeURIComponent(REDACTED), REDACTED);
  } catch {
    return s;
  }
}
