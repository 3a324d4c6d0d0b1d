/**
 * Notices data that reached the metrics store without passing through this server
 * (the standalone generator or Telegraf writing straight into InfluxDB, another
 * replica): every interval it asks for the newest sample's time (one bounded query)
 * and announces `data_landed` when it moved past what the bus already announced, so
 * the server's own ingest does not cause a second metrics_update.
 *
 * The starting point is taken by `prime()` before the server answers anything. Without
 * one (the store was down or slow at start), the first answer is news: caches may have
 * been filled before it, and data written meanwhile must be announced, or the
 * dashboards keep the empty answers cached before it arrived.
 */
import type { Logger } from 'pino';
import type { Bus } from '../events.ts';
import type { MetricsStore } from '../stores/metrics-store.ts';

export interface WatermarkPoller {
  /**
   * Takes the newest sample time as the starting point (not news). Call it before the
   * server answers anything. Resolves false when no answer came within `timeoutMs`.
   */
  prime(timeoutMs: number): Promise<boolean>;
  /** Runs one poll now (tests use it); resolves when done. */
  poll(): Promise<void>;
  stop(): void;
}

export function startWatermarkPoller(opts: { store: MetricsStore; bus: Bus; intervalMs: number; log?: Logger }): WatermarkPoller {
  // Newest sample time (ms) already announced on the bus, by anyone.
  let announcedMs = -1;
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
  async function prime(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((r) => (timer = setTimeout(() => r(null), timeoutMs)));
    try {
      // A late answer is dropped: by then the server may have answered, so it is no baseline.
      const latest = await Promise.race([opts.store.latestSampleNs().then((ns) => ({ ns })), late]);
      if (!latest) {
        opts.log?.warn({ timeoutMs }, 'no starting point for the watermark in time; the first answer will be announced');
        return false;
      }
      if (latest.ns !== null) announcedMs = Math.max(announcedMs, Number(latest.ns / 1_000_000n));
      return true;
    } catch (err) {
      opts.log?.warn({ err: (err as Error).message }, 'no starting point for the watermark; the first answer will be announced');
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    prime,
    poll: () => (running ??= poll().finally(() => (running = undefined))),
    stop() {
      clearInterval(timer);
      unsubscribe();
    },
  };
}
