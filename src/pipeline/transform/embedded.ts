import type { SkuNormalisation } from '../../core/ids.js';
import type { SyncEventBus } from '../../core/events.js';
import type { CanonicalEvent } from '../../core/model.js';
import type { NewDeadLetter } from '../../db/dead-letters.js';
import type { OutMessage } from '../kafka/bus.js';
import { mapRawEvent } from './interpret.js';

/** A transform stage that runs as its own job (the Flink runner). */
export interface TransformRunner {
  readonly name: 'embedded' | 'flink';
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** One raw event handed to the embedded transform, with where it came from (kept in its dead letter). */
export interface RawInput {
  /** The parsed raw event, or undefined when its text was not JSON. */
  value: unknown;
  /** The text as received (kept in the dead letter of a malformed one). */
  text?: string;
  /** Where the event was read (outbox sequence, topic offset, dead letter): context of a reject. */
  context: Record<string, unknown>;
}

/** What the embedded transform made of a list of raw events. */
export interface TransformOutput {
  events: CanonicalEvent[];
  rejects: NewDeadLetter[];
}

/**
 * The embedded runner of the declarative mapping: the interpreter (`mapRawEvent`) applied to a
 * list of raw events, in order, with each reject as a dead letter. The outbox relay runs it on
 * each round it reads from PostgreSQL (no raw-topic consumer in between); `dlq replay` runs it on
 * a replayed event. The Flink runner compiles the same mapping to SQL.
 */
export function transformRaw(inputs: readonly RawInput[], skuRule: SkuNormalisation): TransformOutput {
  const events: CanonicalEvent[] = [];
  const rejects: NewDeadLetter[] = [];
  for (const { value, text, context } of inputs) {
    if (value === undefined) {
      rejects.push({ stage: 'transform', errorClass: 'PERMANENT', errorCode: 'MALFORMED_JSON', errorMessage: 'raw message is not valid JSON', payload: { raw: text ?? null }, context });
      continue;
    }
    if (value === null) continue; // tombstone
    const r = mapRawEvent(value, skuRule);
    if (r.ok) {
      events.push(...r.events);
      continue;
    }
    const raw = value as { eventId?: string; platform?: string; instance?: string };
    rejects.push({
      eventId: typeof raw.eventId === 'string' && /^[0-9a-f-]{36}$/i.test(raw.eventId) ? raw.eventId : null,
      sourceKey: raw.platform ? (raw.platform === 'erp' ? 'erp' : `${raw.platform}:${raw.instance}`) : null,
      stage: 'transform',
      errorClass: 'PERMANENT',
      errorCode: r.reason,
      errorMessage: r.detail,
      payload: value,
      context: { ...context, rawEventId: raw.eventId ?? null },
    });
  }
  return { events, rejects };
}

/** The canonical topic's messages of a list of canonical events (keyed by SKU). */
export function canonicalMessages(events: readonly CanonicalEvent[]): OutMessage[] {
  return events.map((e) => ({ key: e.sku, value: e, headers: { 'syncctl-type': e.type, 'syncctl-source': e.source } }));
}

/** Counts a transform's output on the instrumentation bus (`events_transformed_total`). */
export function reportTransformed(instrumentation: SyncEventBus, out: TransformOutput): void {
  const byType = new Map<string, number>();
  for (const e of out.events) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
  for (const [type, count] of byType) instrumentation.emit('events.transformed', { runner: 'embedded', type, count, invalid: 0 });
  if (out.rejects.length) instrumentation.emit('events.transformed', { runner: 'embedded', type: 'rejected', count: 0, invalid: out.rejects.length });
}
