/**
 * How an Alert is kept in MongoDB: the Alert's own fields, `_id` = alert id, and
 * `unresolvedKey` ("POP, function") only while the alert is open or
 * acknowledged. A partial unique index on `unresolvedKey` is what keeps one
 * unresolved alert per pair even with several servers writing. Times stay
 * RFC 3339 strings (fixed width, so they sort as times) to round-trip exactly.
 */
import type { Alert, NotificationOutcome } from '@edgeworker/schema';
import { unresolvedKey } from '../alert-cursor.ts';

export interface AlertDocument {
  _id: string;
  type: Alert['type'];
  popCode: string;
  functionName: string;
  severity: Alert['severity'];
  status: Alert['status'];
  baselineMs: number;
  currentMs: number;
  changePct: number;
  createdAt: string;
  updatedAt: string;
  acknowledgedAt?: string;
  resolvedAt?: string;
  resolvedBy?: Alert['resolvedBy'];
  notifications: NotificationOutcome[];
  lastSeenAt?: string;
  silentSeries?: number;
  unresolvedKey?: string;
}

const OPTIONAL = ['acknowledgedAt', 'resolvedAt', 'resolvedBy', 'lastSeenAt', 'silentSeries'] as const;

export function toDocument(alert: Alert): AlertDocument {
  const { id, ...rest } = alert;
  const doc: AlertDocument = { _id: id, ...rest };
  for (const k of OPTIONAL) if (doc[k] === undefined) delete doc[k];
  if (alert.status !== 'resolved') doc.unresolvedKey = unresolvedKey(alert.popCode, alert.functionName, alert.type);
  return doc;
}

/** Back to the API's Alert: no `_id`, no `unresolvedKey`, no absent optional fields. */
export function fromDocument(doc: AlertDocument): Alert {
  const alert: Alert = {
    id: doc._id,
    // Documents from before no_data alerts have no other type.
    type: doc.type ?? 'regression',
    popCode: doc.popCode,
    functionName: doc.functionName,
    severity: doc.severity,
    status: doc.status,
    baselineMs: doc.baselineMs,
    currentMs: doc.currentMs,
    changePct: doc.changePct,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    notifications: (doc.notifications ?? []).map(cleanOutcome),
  };
  for (const k of OPTIONAL) if (doc[k] !== undefined && doc[k] !== null) (alert as Record<string, unknown>)[k] = doc[k];
  return alert;
}

function cleanOutcome(o: NotificationOutcome): NotificationOutcome {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null) out[k] = v;
  return out as NotificationOutcome;
}

/**
 * The `$set`/`$unset` that replaces an alert's state with `alert`, except
 * `notifications` (owned by addNotifications) and `_id`.
 */
export function replacementUpdate(alert: Alert) {
  const { _id, notifications, ...fields } = toDocument(alert);
  void _id;
  void notifications;
  const unset: Record<string, ''> = {};
  for (const k of OPTIONAL) if (fields[k] === undefined) unset[k] = '';
  if (fields.unresolvedKey === undefined) unset.unresolvedKey = '';
  return Object.keys(unset).length ? { $set: fields, $unset: unset } : { $set: fields };
}
