import { createRequire } from 'node:module';

/** kafkajs's per-connection request queue (internal; the same module instance its clients use). */
interface RequestQueueInternals {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs's own interval for re-checking a queue that holds pending requests (CHECK_PENDING_REQUESTS_INTERVAL). */
const CHECK_PENDING_MS = 10;
let patched = false;

/**
 * kafkajs 2.2.4 (unmaintained) arms a timer after every answered request even when nothing waits:
 * without client-side throttling `throttledUntil - Date.now()` is negative, so each connection
 * re-checks its empty queue every millisecond for as long as it lives (tulios/kafkajs#1704), and
 * Node >= 23 prints a TimeoutNegativeWarning for the negative delay (tulios/kafkajs#1751). This
 * replaces that one method with the fix proposed upstream: no timer when nothing is pending and
 * nothing throttles (a later `push` or answer checks the queue again); otherwise as before.
 */
export function patchKafkaRequestQueue(): void {
  if (patched) return;
  const require = createRequire(import.meta.url);
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueueInternals };
  RequestQueue.prototype.scheduleCheckPendingRequests = function (this: RequestQueueInternals): void {
    if (this.throttleCheckTimeoutId) return;
    let delay = this.throttledUntil - Date.now();
    if (this.pending.length > 0) delay = delay > 0 ? delay : CHECK_PENDING_MS;
    else if (delay <= 0) return;
    this.throttleCheckTimeoutId = setTimeout(() => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    }, delay);
  };
  patched = true;
}
