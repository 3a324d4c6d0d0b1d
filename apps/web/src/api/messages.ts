/**
 * Parses what arrives on /ws. Anything malformed or of an unknown type yields null, so a newer
 * server (or a broken proxy) can never crash the dashboard.
 */
import type { Overview, ServerMessage, WS_CLOSE_TRY_AGAIN_LATER } from '@edgeworker/schema';
import { isAlert } from '../lib/alerts.ts';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Shape check of the fields the dashboard reads; extra fields are welcome. */
export function isOverview(v: unknown): v is Overview {
  if (!isRecord(v)) return false;
  const numOrNull = (x: unknown) => x === null || typeof x === 'number';
  return (
    typeof v.totalPops === 'number' &&
    typeof v.healthyPops === 'number' &&
    typeof v.regressions === 'number' &&
    numOrNull(v.averageColdStart)
  );
}

function positive(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}

/**
 * The close code of a connection refused because the server holds WS_MAX_CLIENTS live clients
 * (1013, Try Again Later; the schema's WS_CLOSE_TRY_AGAIN_LATER, checked by the type). Its
 * reason says so; the dashboard shows "Server full" and retries with its backoff.
 */
export const SERVER_FULL_CLOSE_CODE: typeof WS_CLOSE_TRY_AGAIN_LATER = 1013;

export function parseServerMessage(raw: unknown): ServerMessage | null {
  if (typeof raw !== 'string') return null;
  let msg: unknown;
  try {
    msg = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isRecord(msg)) return null;
  if (msg.type === 'metrics_update' && isOverview(msg.data)) {
    return { type: 'metrics_update', data: msg.data };
  }
  if (msg.type === 'hello' && isRecord(msg.data) && isOverview(msg.data.overview)) {
    const serverTime = typeof msg.data.serverTime === 'string' ? msg.data.serverTime : '';
    const interval = positive(msg.data.heartbeatIntervalMs);
    return { type: 'hello', data: { serverTime, overview: msg.data.overview, ...(interval === undefined ? {} : { heartbeatIntervalMs: interval }) } };
  }
  if (msg.type === 'heartbeat' && isRecord(msg.data)) {
    const intervalMs = positive(msg.data.intervalMs);
    if (intervalMs === undefined) return null;
    return { type: 'heartbeat', data: { serverTime: typeof msg.data.serverTime === 'string' ? msg.data.serverTime : '', intervalMs } };
  }
  if (msg.type === 'alert' && isAlert(msg.data)) {
    return { type: 'alert', data: msg.data };
  }
  return null;
}

/** ws:// or wss:// to the same origin, matching the page's protocol. */
export function liveSocketUrl(loc: Location = window.location): string {
  const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${loc.host}/ws`;
}
