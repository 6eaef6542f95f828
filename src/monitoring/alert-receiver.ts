import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { SyncEventBus } from '../core/events.js';
import { PermanentError, RetriableError } from '../core/errors.js';
import { getLogger, type Logger } from '../core/logger.js';

/**
 * The receiver of Alertmanager webhook notifications (webhook_config, payload version 4):
 * the daemon mounts it at `/alerts`. Each alert is logged (warn when firing, info when
 * resolved), counted on `syncctl_alert_notifications_total`, and optionally forwarded.
 */

const alertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()).default({}),
  startsAt: z.string(),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
});

/** The Alertmanager webhook body (version 4). Unknown extra fields are kept. */
export const alertNotificationSchema = z.looseObject({
  version: z.literal('4'),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().min(0).default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: z.record(z.string(), z.string()).default({}),
  commonLabels: z.record(z.string(), z.string()).default({}),
  commonAnnotations: z.record(z.string(), z.string()).default({}),
  externalURL: z.string().default(''),
  alerts: z.array(alertSchema),
});

/** A parsed Alertmanager notification. */
export type AlertNotification = z.infer<typeof alertNotificationSchema>;

/** Sends a notification on (to a chat webhook, an incident tool...). Throws when it could not. */
export type AlertForwarder = (notification: AlertNotification) => Promise<void>;

/** Options of {@link handleAlertNotification}. */
export interface AlertReceiverOptions {
  /** Bus on which `alert.received` is emitted per alert (for the metrics). */
  bus?: SyncEventBus;
  /** Forwards each notification after it was logged. */
  forward?: AlertForwarder;
  /** Logger; component `alerts` by default. */
  log?: Logger;
  /** Keeps the alerts still firing (shown by the console). */
  book?: AlertBook;
}

/** An alert Alertmanager says is firing. */
export interface OpenAlert {
  fingerprint: string;
  alertname: string;
  severity: string;
  summary?: string;
  runbook?: string;
  labels: Record<string, string>;
  startsAt?: string;
  receivedAt: string;
}

/**
 * The alerts received on `/alerts` that are still firing, in this process's memory (a resolved
 * notification removes one; Alertmanager repeats firing ones, so a restarted daemon learns them
 * again at the next repeat).
 */
export class AlertBook {
  private readonly open = new Map<string, OpenAlert>();
  record(a: OpenAlert, status: string): void {
    if (status === 'firing') this.open.set(a.fingerprint, a);
    else this.open.delete(a.fingerprint);
  }
  list(): OpenAlert[] {
    return [...this.open.values()].sort((a, b) => a.alertname.localeCompare(b.alertname) || (a.startsAt ?? '').localeCompare(b.startsAt ?? ''));
  }
}

/** What a notification amounted to. */
export interface AlertReceipt {
  groupKey: string;
  firing: number;
  resolved: number;
  forwarded: boolean;
}

/**
 * Handles one parsed webhook body: validates it (PermanentError `ALERT_BODY_INVALID`), logs
 * every alert, emits `alert.received`, then forwards (RetriableError `ALERT_FORWARD_FAILED`).
 */
export async function handleAlertNotification(body: unknown, opts: AlertReceiverOptions = {}): Promise<AlertReceipt> {
  const log = opts.log ?? getLogger('alerts');
  const parsed = alertNotificationSchema.safeParse(body);
  if (!parsed.success) {
    throw new PermanentError('ALERT_BODY_INVALID', `Not an Alertmanager webhook (version 4) body: ${parsed.error.issues[0]?.message ?? 'invalid'}`, {
      hint: 'Point an Alertmanager webhook_config (not another tool) at /alerts.',
    });
  }
  const n = parsed.data;
  let firing = 0;
  for (const a of n.alerts) {
    const alertname = a.labels.alertname ?? 'unknown';
    const severity = a.labels.severity ?? 'none';
    if (a.status === 'firing') firing++;
    const entry = {
      alertname,
      severity,
      status: a.status,
      labels: a.labels,
      summary: a.annotations.summary,
      runbook: a.annotations.runbook_url,
      startsAt: a.startsAt,
      endsAt: a.status === 'resolved' ? a.endsAt : undefined,
      receiver: n.receiver,
      fingerprint: a.fingerprint,
    };
    if (a.status === 'firing') log.warn(entry, `alert firing: ${alertname}`);
    else log.info(entry, `alert resolved: ${alertname}`);
    opts.bus?.emit('alert.received', { alertname, severity, status: a.status });
    opts.book?.record({ fingerprint: a.fingerprint ?? `${alertname}|${JSON.stringify(a.labels)}`, alertname, severity, summary: a.annotations.summary, runbook: a.annotations.runbook_url, labels: a.labels, startsAt: a.startsAt, receivedAt: new Date().toISOString() }, a.status);
  }
  if (n.truncatedAlerts > 0) log.warn({ groupKey: n.groupKey, truncated: n.truncatedAlerts }, 'Alertmanager truncated the alerts of this notification');
  let forwarded = false;
  if (opts.forward) {
    try {
      await opts.forward(n);
      forwarded = true;
    } catch (err) {
      throw new RetriableError('ALERT_FORWARD_FAILED', `Forwarding alert group ${n.groupKey} failed: ${(err as Error).message}`, {
        cause: err,
        hint: 'Check monitoring.alertReceiver.forwardUrl; Alertmanager retries the notification.',
      });
    }
  }
  return { groupKey: n.groupKey, firing, resolved: n.alerts.length - firing, forwarded };
}

/** A forwarder POSTing the notification as JSON to `url` (config `monitoring.alertReceiver.forwardUrl`). */
export function httpAlertForwarder(url: string, timeoutMs = 5000): AlertForwarder {
  return async (notification) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(notification),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status} from the forward URL`);
  };
}

/**
 * Fastify routes: `POST /alerts` (prefix via `register(..., { prefix })`). Answers 200 with the
 * receipt, 400 for a body that is not an Alertmanager notification, 502 when forwarding failed
 * (so Alertmanager retries).
 */
export const alertReceiverPlugin: FastifyPluginAsync<AlertReceiverOptions> = async (app, opts) => {
  app.post('/alerts', async (request, reply) => {
    try {
      return await handleAlertNotification(request.body, opts);
    } catch (err) {
      if (err instanceof PermanentError) return reply.code(400).send({ error: err.code, message: err.message });
      if (err instanceof RetriableError) return reply.code(502).send({ error: err.code, message: err.message });
      throw err;
    }
  });
};
