/**
 * Regression alerts: the SPEC's Alert object, shared by the server (routes,
 * stores, WebSocket) and the dashboard. Lifecycle: open -> acknowledged -> resolved
 * (open -> resolved directly too); at most one unresolved alert per (POP, function).
 */
import { Type, type Static } from 'typebox';

export const AlertStatus = Type.Union([Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('resolved')]);
export type AlertStatus = Static<typeof AlertStatus>;

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
  type: Type.Literal('regression'),
  popCode: Type.String(),
  functionName: Type.String(),
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
});
export type Alert = Static<typeof Alert>;
