/**
 * Wording shared by every channel, so a Slack message, an e-mail and a webhook
 * payload about the same alert say the same thing.
 */
import type { Alert } from '@edgeworker/schema';
import type { NotificationEvent } from './notifier.ts';

/** The dashboard filtered to the alert's POP and function. */
export function dashboardUrl(baseUrl: string, alert: Pick<Alert, 'popCode' | 'functionName'>): string {
  const base = baseUrl.replace(/\/+$/, '');
  return `${base}/?pop=${encodeURIComponent(alert.popCode)}&function=${encodeURIComponent(alert.functionName)}`;
}

/** `+85%`, `-3%`: the sign is always shown. */
export function formatChange(changePct: number): string {
  const rounded = Math.round(changePct);
  return `${rounded >= 0 ? '+' : ''}${rounded}%`;
}

export function formatMs(ms: number): string {
  return ms >= 100 ? String(Math.round(ms)) : String(Math.round(ms * 10) / 10);
}

/** `120 → 222 ms (+85%)`; for a no_data alert, since when nothing arrived. */
export function formatChangeLine(alert: Pick<Alert, 'baselineMs' | 'currentMs' | 'changePct' | 'type' | 'lastSeenAt'>): string {
  if (alert.type === 'no_data') return `no samples since ${alert.lastSeenAt ? formatTime(alert.lastSeenAt) : 'the alert opened'}`;
  return `${formatMs(alert.baselineMs)} → ${formatMs(alert.currentMs)} ms (${formatChange(alert.changePct)})`;
}

/** `[CRITICAL] Regression: ssr-render at FRA +85% (120 → 222 ms)`, `[RESOLVED] ...` once resolved. */
export function summaryLine(event: NotificationEvent, alert: Alert): string {
  const tag = event === 'resolved' ? 'RESOLVED' : alert.severity.toUpperCase();
  if (alert.type === 'no_data') return `[${tag}] No data: ${silentWhat(alert)}`;
  return (
    `[${tag}] Regression: ${alert.functionName} at ${alert.popCode} ${formatChange(alert.changePct)} ` +
    `(${formatMs(alert.baselineMs)} → ${formatMs(alert.currentMs)} ms)`
  );
}

/**
 * `ssr-render at FRA`, `every function at FRA` (a whole POP), `ssr-render at every POP` (a whole
 * function), `all POPs (ingest stopped)` (the pipeline).
 */
export function silentWhat(alert: Pick<Alert, 'popCode' | 'functionName'>): string {
  if (alert.popCode === '*') return alert.functionName === '*' ? 'all POPs (ingest stopped)' : `${alert.functionName} at every POP`;
  if (alert.functionName === '*') return `every function at ${alert.popCode}`;
  return `${alert.functionName} at ${alert.popCode}`;
}

/** The moment the event is about: when the alert opened, or when it resolved. */
export function eventTime(event: NotificationEvent, alert: Alert): string {
  return event === 'resolved' ? (alert.resolvedAt ?? alert.updatedAt) : alert.createdAt;
}

/** RFC 3339 down to the second, readable in a message (`2026-11-26 20:21:05 UTC`). */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/**
 * The server's own base URL, for dashboard links when PUBLIC_URL is unset. A
 * wildcard listen address is not reachable as such: `localhost` is the best guess.
 */
export function ownBaseUrl(address: { address: string; port: number } | string | null, host: string, port: number): string {
  const listening = address !== null && typeof address === 'object' ? address : { address: host, port };
  let h = listening.address;
  if (h === '0.0.0.0' || h === '::' || h === '') h = 'localhost';
  else if (h.includes(':')) h = `[${h}]`;
  return `http://${h}:${listening.port}`;
}
