/**
 * Alerts: the SPEC's Alert object, shared by the server (routes, stores, WebSocket)
 * and the dashboard. Lifecycle: open -> acknowledged -> resolved (open -> resolved
 * directly too); at most one unresolved alert per (type, POP, function).
 *
 * Two types:
 * - `regression`: a (POP, function) series got slower (baselineMs, currentMs, changePct);
 * - `no_data`: something that reported steadily went silent: one series, a whole POP
 *   (functionName '*'), a whole function at every POP (popCode '*', its functionName), or all
 *   ingest (popCode '*' and functionName '*', the pipeline).
 *   baselineMs is the typical cold start before the silence (0 for '*'), currentMs and
 *   changePct are 0; lastSeenAt says when the newest sample was taken.
 */
import { Type, type Static } from 'typebox';

export const AlertStatus = Type.Union([Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('resolved')]);
export type AlertStatus = Static<typeof AlertStatus>;

export const AlertType = Type.Union([Type.Literal('regression'), Type.Literal('no_data')]);
export type AlertType = Static<typeof AlertType>;

/** functionName (and popCode, for the pipeline) of a no_data alert that covers everything there. */
export const ALL = '*';

export const AlertSeverity = Type.Union([Type.Literal('warning'), Type.Literal('critical')]);
export type AlertSeverity = Static<typeof AlertSeverity>;

export const NotificationOutcome = Type.Object({
  channel: Type.String({ description: 'slack, email or webhook' }),
  /** What the notification was about. */
  event: Type.Optional(Type.Union([Type.Literal('opened'), Type.Literal('resolved')])),
  ok: Type.Boolean(),
  at: Type.String({ description: 'RFC 3339 time of the last attempt' }),
  attempts: Type.Optional(Type.Integer()),
  error: Type.Optional(Type.String()),
});
export type NotificationOutcome = Static<typeof NotificationOutcome>;

export const Alert = Type.Object({
  id: Type.String(),
  type: AlertType,
  popCode: Type.String({ description: "'*' on a no_data alert for every POP: a function silent everywhere, or the pipeline (functionName '*' too)" }),
  functionName: Type.String({ description: "'*' on a no_data alert for every function: a whole POP, or the pipeline" }),
  severity: AlertSeverity,
  status: AlertStatus,
  baselineMs: Type.Number({ description: 'baseline median cold start' }),
  currentMs: Type.Number({ description: 'recent median cold start (updated while the alert is unresolved)' }),
  changePct: Type.Number({ description: '(current - baseline) / baseline * 100' }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  acknowledgedAt: Type.Optional(Type.String()),
  resolvedAt: Type.Optional(Type.String()),
  /** Who or what resolved it: the detector (back at baseline) or an operator. */
  resolvedBy: Type.Optional(Type.Union([Type.Literal('detector'), Type.Literal('operator')])),
  notifications: Type.Array(NotificationOutcome),
  /** no_data: RFC 3339 time of the newest sample before the silence. */
  lastSeenAt: Type.Optional(Type.String()),
  /** no_data of a POP, a function or the pipeline: how many series went silent. */
  silentSeries: Type.Optional(Type.Integer()),
});
export type Alert = Static<typeof Alert>;
