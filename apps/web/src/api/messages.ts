/**
 * Parses what arrives on /ws. Anything malformed or of an unknown type yields null, so a newer
 * server (or a broken proxy) can never crash the dashboard.
 */
import type { Overview, ServerMessage } from '@edgeworker/schema';
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
    return { type: 'hello', data: { serverTime, overview: msg.data.overview } };
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
