import { PermanentError } from '../core/errors.js';

/** Why the intake refused a webhook delivery (also the `reason` label of the rejection metric). */
export type WebhookRejectReason = 'bad_signature' | 'missing_signature' | 'malformed' | 'wrong_resource' | 'unknown_instance' | 'too_large' | 'unsupported' | 'rate_limited';

const STATUS: Record<WebhookRejectReason, number> = {
  bad_signature: 401,
  missing_signature: 401,
  malformed: 400,
  wrong_resource: 400,
  unknown_instance: 404,
  too_large: 413,
  unsupported: 400,
  rate_limited: 429,
};

/** A webhook delivery refused before anything was stored; the intake answers with `status`. */
export class WebhookRejectedError extends PermanentError {
  readonly status: number;
  readonly reason: WebhookRejectReason;
  /** The topic the delivery claimed (known topics only: a bounded metric label). */
  readonly topic?: string;
  constructor(reason: WebhookRejectReason, message: string, topic?: string) {
    super(`WEBHOOK_${reason.toUpperCase()}`, message);
    this.reason = reason;
    this.status = STATUS[reason];
    this.topic = topic;
  }
}

/**
 * What makes a webhook body the resource its topic names. `lists`: fields that must be arrays
 * (`line_items` of an order, `variants` of a Shopify product); `fields`: fields that must be
 * present and not null; `absent`: fields that must not be there (a deletion carries only the id,
 * never a whole product or order).
 */
export interface ResourceShape {
  /** The resource in words, for the message: "an order". */
  name: string;
  lists?: readonly string[];
  fields?: readonly string[];
  absent?: readonly string[];
}

/**
 * Refuses (`wrong_resource`, 400) a signed body that is not the resource its topic names: before
 * this check, lists defaulting to empty let a product pass as an order with no lines (stored,
 * published, and only dead-lettered later). `looksLike` names what the body seems to be instead.
 */
export function requireResource(topic: string, body: Record<string, unknown>, shape: ResourceShape, looksLike: (body: Record<string, unknown>) => string | undefined): void {
  const missing = [
    ...(shape.lists ?? []).filter((k) => !Array.isArray(body[k])).map((k) => `no ${k} list`),
    ...(shape.fields ?? []).filter((k) => body[k] === undefined || body[k] === null).map((k) => `no ${k}`),
    ...(shape.absent ?? []).filter((k) => k in body).map((k) => `a ${k} field`),
  ];
  if (missing.length === 0) return;
  const seems = looksLike(body);
  throw new WebhookRejectedError('wrong_resource', `${topic} body is not ${shape.name}: it has ${missing.join(', ')}${seems ? ` (it looks like ${seems})` : ''}`, topic);
}
