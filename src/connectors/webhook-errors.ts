import { PermanentError } from '../core/errors.js';

/** Why the intake refused a webhook delivery (also the `reason` label of the rejection metric). */
export type WebhookRejectReason = 'bad_signature' | 'missing_signature' | 'malformed' | 'unknown_instance' | 'too_large' | 'unsupported';

const STATUS: Record<WebhookRejectReason, number> = {
  bad_signature: 401,
  missing_signature: 401,
  malformed: 400,
  unknown_instance: 404,
  too_large: 413,
  unsupported: 400,
};

/** A webhook delivery refused before anything was stored; the intake answers with `status`. */
export class WebhookRejectedError extends PermanentError {
  readonly status: number;
  readonly reason: WebhookRejectReason;
  constructor(reason: WebhookRejectReason, message: string) {
    super(`WEBHOOK_${reason.toUpperCase()}`, message);
    this.reason = reason;
    this.status = STATUS[reason];
  }
}
