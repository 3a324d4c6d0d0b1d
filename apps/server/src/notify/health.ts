/**
 * The `notify` component of /health: the configured channels and how each one's
 * last delivery went. A failed last delivery degrades (never downs) the service:
 * alerts are still detected, stored and pushed over the WebSocket.
 */
import type { ComponentHealth } from '../health/health.ts';
import type { ChannelNotifier } from './create-notifier.ts';

export function notifierHealth(notifier: ChannelNotifier): ComponentHealth {
  if (notifier.channels.length === 0) return { status: 'not_configured', channels: [] };
  const last = notifier.lastOutcomes();
  const failing = Object.entries(last)
    .filter(([, o]) => o !== undefined && !o.ok)
    .map(([name]) => name);
  return {
    status: failing.length > 0 ? 'degraded' : 'ok',
    channels: notifier.channels,
    last,
    ...(failing.length > 0 ? { failing } : {}),
  };
}
