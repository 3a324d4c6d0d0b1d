/** Pure helpers for alert lists: live merge of `alert` messages and display text. */
import type { Alert, AlertStatus, AlertType } from '@edgeworker/schema';

export const ALERT_STATUSES: readonly AlertStatus[] = ['open', 'acknowledged', 'resolved'];

export const ALERT_STATUS_LABEL: Record<AlertStatus, string> = {
  open: 'Open',
  acknowledged: 'Acknowledged',
  resolved: 'Resolved',
};

export const ALERT_TYPE_LABEL: Record<AlertType, string> = {
  regression: 'Regression',
  no_data: 'No data',
};

/** A glyph per alert state so the state never depends on colour alone. */
export const ALERT_STATUS_GLYPH: Record<AlertStatus, string> = {
  open: '!',
  acknowledged: '✓',
  resolved: '○',
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Shape check of the fields the dashboard reads. */
export function isAlert(v: unknown): v is Alert {
  return (
    isRecord(v) &&
    typeof v.id === 'string' &&
    typeof v.popCode === 'string' &&
    typeof v.functionName === 'string' &&
    (v.status === 'open' || v.status === 'acknowledged' || v.status === 'resolved') &&
    (v.severity === 'warning' || v.severity === 'critical') &&
    typeof v.createdAt === 'string'
  );
}

/**
 * The list after a live change to `alert`: replaced in place when it is listed and still
 * matches the list's status, removed when it no longer matches, added on top when new
 * and matching. Newest first, like the server's pages.
 */
export function mergeAlert(
  list: readonly Alert[],
  alert: Alert,
  filter: { status?: AlertStatus | null; popCode?: string | null },
): Alert[] {
  const matches =
    (!filter.status || alert.status === filter.status) && (!filter.popCode || alert.popCode === filter.popCode);
  const i = list.findIndex((a) => a.id === alert.id);
  if (i >= 0) {
    if (!matches) return list.filter((a) => a.id !== alert.id);
    const next = [...list];
    next[i] = alert;
    return next;
  }
  if (!matches) return [...list];
  return [alert, ...list].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
}

/** `+42 %` with a sign, one decimal under 10 %. */
export function formatChange(pct: number): string {
  if (!Number.isFinite(pct)) return '–';
  const abs = Math.abs(pct);
  const text = abs < 10 ? abs.toFixed(1) : String(Math.round(abs));
  return `${pct < 0 ? '−' : '+'}${text} %`;
}
