/**
 * Prometheus metrics of one server instance. A registry per app (not prom-client's
 * global one), so several apps in one process — as in the tests — never collide.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type ServerMetrics = ReturnType<typeof createServerMetrics>;

export function createServerMetrics(sources: { liveClients: () => number; maxLiveClients: number }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'edgeworker_process_' });
  return {
    registry,
    ingestedPoints: new Counter({ name: 'edgeworker_ingested_points_total', help: 'Samples stored', registers: [registry] }),
    ingestSkipped: new Counter({
      name: 'edgeworker_ingest_skipped_points_total',
      // No per-measurement label: names come from clients, and a label per name is unbounded.
      help: 'Points of other measurements in accepted write bodies (agents such as Telegraf mix them), skipped, not stored',
      registers: [registry],
    }),
    ingestRejected: new Counter({ name: 'edgeworker_ingest_rejected_total', help: 'Write requests refused, by error code', labelNames: ['code'], registers: [registry] }),
    wsClients: new Gauge({
      name: 'edgeworker_ws_clients',
      help: 'Connected WebSocket clients',
      registers: [registry],
      collect() {
        this.set(sources.liveClients());
      },
    }),
    wsMaxClients: new Gauge({
      name: 'edgeworker_ws_clients_max',
      help: 'Most WebSocket clients this process takes (WS_MAX_CLIENTS); one more is refused',
      registers: [registry],
      collect() {
        this.set(sources.maxLiveClients);
      },
    }),
    // No labels: exported as 0 from the start, so increase() sees the first refusal (docs/alerts.yml).
    wsRefused: new Counter({
      name: 'edgeworker_ws_clients_refused_total',
      help: 'WebSocket connections refused (close 1013) because WS_MAX_CLIENTS clients were connected',
      registers: [registry],
    }),
    // Outcomes after retries; a failure here is an alert nobody was told about (docs/alerts.yml).
    notifications: new Counter({ name: 'edgeworker_notifications_total', help: 'Alert notifications by channel and result (sent, failed), after retries', labelNames: ['channel', 'result'], registers: [registry] }),
    wsMessages: new Counter({ name: 'edgeworker_ws_messages_total', help: 'WebSocket messages sent, by type', labelNames: ['type'], registers: [registry] }),
    cacheAnswers: new Counter({
      name: 'edgeworker_query_cache_answers_total',
      help: 'Query answers by cache outcome: hit, miss, revalidate (served, refreshed in the background), stale (last good while the store is down), error',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    wsDropped: new Counter({ name: 'edgeworker_ws_clients_dropped_total', help: 'WebSocket clients dropped, by reason (slow, dead)', labelNames: ['reason'], registers: [registry] }),
    httpDuration: new Histogram({
      name: 'edgeworker_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}
