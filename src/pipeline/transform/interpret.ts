import { normaliseSku, type SkuNormalisation } from '../../core/ids.js';
import type { CanonicalEvent, RawEvent } from '../../core/model.js';
import { sourceKey } from '../../core/model.js';
import { EMPTY_IS_NOTHING_TO_SYNC, MAPPING, type Cond, type Expr, type MappingRule, type RejectReason } from './mapping.js';

/** The result of mapping one raw message. */
export type MapResult = { ok: true; events: CanonicalEvent[] } | { ok: false; reason: RejectReason; detail: string };

interface Scope {
  event: RawEvent;
  payload: Record<string, unknown>;
  item?: unknown;
}

/** Interprets the declarative mapping for one raw event (the embedded runner's core). */
export function mapRawEvent(value: unknown, rule: SkuNormalisation, mapping: MappingRule[] = MAPPING): MapResult {
  if (!isRawEvent(value)) return { ok: false, reason: 'NOT_A_RAW_EVENT', detail: 'message is not a syncctl raw event' };
  const payload = value.payload as Record<string, unknown>;
  const rules = mapping.filter((r) => r.kind === payload.kind);
  if (rules.length === 0) return { ok: false, reason: 'UNKNOWN_KIND', detail: `payload kind ${String(payload.kind)} has no mapping rule` };
  const out: CanonicalEvent[] = [];
  for (const r of rules) {
    const items = r.explode ? get({ event: value, payload }, r.explode) : [undefined];
    if (!Array.isArray(items)) continue;
    for (const item of items) {
      const scope: Scope = { event: value, payload, item };
      if (!r.where.every((c) => holds(c, scope, rule))) continue;
      out.push(build(r, scope, rule));
    }
  }
  if (out.length === 0) {
    // A product without variants (a variable parent) or the deletion of a product we never
    // mapped carries nothing to sync: that is not a failure. Anything else without a SKU is.
    const emptyPath = EMPTY_IS_NOTHING_TO_SYNC[payload.kind as MappingRule['kind']];
    const list = emptyPath ? get({ event: value, payload }, emptyPath) : undefined;
    if (Array.isArray(list) && list.length === 0) return { ok: true, events: [] };
    return { ok: false, reason: 'NO_SKU', detail: `${payload.kind} ${value.entityRef} names no SKU that can be matched` };
  }
  return { ok: true, events: out };
}

function isRawEvent(v: unknown): v is RawEvent {
  const e = v as Partial<RawEvent> | null;
  return !!e && typeof e === 'object' && typeof e.eventId === 'string' && typeof e.platform === 'string' && typeof e.instance === 'string' && !!e.payload && typeof e.payload === 'object' && typeof (e.payload as { kind?: unknown }).kind === 'string';
}

function build(r: MappingRule, scope: Scope, rule: SkuNormalisation): CanonicalEvent {
  const ev: Record<string, unknown> = {};
  for (const [name, expr] of Object.entries(r.fields)) {
    const v = evaluate(expr, scope, rule);
    const dot = name.indexOf('.');
    if (dot < 0) {
      ev[name] = v;
    } else {
      const [outer, inner] = [name.slice(0, dot), name.slice(dot + 1)];
      const obj = (ev[outer] ??= {}) as Record<string, unknown>;
      if (v !== null && v !== undefined) obj[inner] = v;
    }
  }
  return ev as unknown as CanonicalEvent;
}

/** Evaluates one expression; null for anything missing. */
export function evaluate(e: Expr, scope: Scope, rule: SkuNormalisation): unknown {
  if ('path' in e) return get(scope, e.path) ?? null;
  if ('sku' in e) return normaliseSku(get(scope, e.sku), rule);
  if ('const' in e) return e.const;
  if ('coalesce' in e) {
    for (const x of e.coalesce) {
      const v = evaluate(x, scope, rule);
      if (v !== null && v !== undefined) return v;
    }
    return null;
  }
  if ('concat' in e) {
    const parts = e.concat.map((x) => evaluate(x, scope, rule));
    return parts.some((p) => p === null || p === undefined) ? null : parts.map(String).join('');
  }
  return sourceKey(scope.event.platform, scope.event.instance);
}

function holds(c: Cond, scope: Scope, rule: SkuNormalisation): boolean {
  if ('notNull' in c) {
    const v = evaluate(c.notNull, scope, rule);
    return v !== null && v !== undefined;
  }
  if ('isTrue' in c) return evaluate(c.isTrue, scope, rule) === true;
  return evaluate(c.isFalse, scope, rule) === false;
}

function get(scope: Scope, path: string): unknown {
  const [head, ...rest] = path.split('.');
  let v: unknown = head === 'event' ? scope.event : head === 'payload' ? scope.payload : head === 'item' ? scope.item : undefined;
  for (const k of rest) {
    if (v === null || v === undefined || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}
