/**
 * Notices data that reached the metrics store without passing through this server
 * (the standalone generator or Telegraf writing straight into InfluxDB, another
 * replica): every interval it asks for the newest sample's time (one bounded query)
 * and announces `data_landed` when it moved past what the bus already announced, so
 * the server's own ingest does not cause a second metrics_update.
 */
import type { Logger } from 'pino';
import type { Bus } from '../events.ts';
import type { MetricsStore } from '../stores/metrics-store.ts';

export interface WatermarkPoller {
  /** Runs one poll now (tests use it); resolves when done. */
  poll(): Promise<void>;
  stop(): void;
}

export function startWatermarkPoller(opts: { store: MetricsStore; bus: Bus; intervalMs: number; log?: Logger }): WatermarkPoller {
  // Newest sample time (ms) already announced on the bus, by anyone.
  let announcedMs = -1;
  let primed = false;
  const unsubscribe = opts.bus.subscribe((e) => {
    if (e.type === 'data_landed') announcedMs = Math.max(announcedMs, e.latestMs);
  });
  let running: Promise<void> | undefined;
  let failures = 0;

  async function poll() {
    try {
      const latest = await opts.store.latestSampleNs();
      failures = 0;
      const latestMs = latest === null ? -1 : Number(latest / 1_000_000n);
      // The first answer is the starting point, not news (an empty store starts at -1).
      if (!primed) {
        primed = true;
        announcedMs = Math.max(announcedMs, latestMs);
        return;
      }
      if (latestMs > announcedMs) {
        announcedMs = latestMs;
        opts.bus.publish({ type: 'data_landed', points: 0, latestMs });
      }
    } catch (err) {
      // The store's outage is reported by /health and the breaker; log once per outage here.
      if (failures++ === 0) opts.log?.warn({ err: (err as Error).message }, 'watermark poll failed; will keep trying');
    }
  }

  const timer = setInterval(() => {
    // A slow store must not pile polls up: skip the tick while one runs.
    running ??= poll().finally(() => (running = undefined));
  }, opts.intervalMs);
  timer.unref();
  return {
    poll: () => (running ??= poll().finally(() => (running = undefined))),
    stop() {
      clearInterval(timer);
      unsubscribe();
    },
  };
}
