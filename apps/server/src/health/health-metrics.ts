/**
 * /health as Prometheus gauges, so the system's own alerts (docs/alerts.yml) need no
 * probe of their own: one `edgeworker_component_up{component}` per /health component
 * (0 while it is down or degraded) and the age of the newest stored sample (ingest
 * stopped). Computed at scrape time from one health report shared by both gauges.
 */
import { Gauge, type Registry } from 'prom-client';
import type { HealthRegistry } from './health.ts';

const REPORT_REUSE_MS = 1000;

export function registerHealthMetrics(registry: Registry, health: HealthRegistry, now: () => number) {
  let cached: { at: number; report: ReturnType<HealthRegistry['report']> } | undefined;
  const report = () => {
    if (!cached || now() - cached.at > REPORT_REUSE_MS) cached = { at: now(), report: health.report() };
    return cached.report;
  };
  new Gauge({
    name: 'edgeworker_component_up',
    help: 'Per /health component: 1 when ok (or off, not configured), 0 when down or degraded',
    labelNames: ['component'],
    registers: [registry],
    async collect() {
      const r = await report();
      this.reset();
      for (const [name, c] of Object.entries(r.components)) this.set({ component: name }, c.status === 'down' || c.status === 'degraded' ? 0 : 1);
    },
  });
  new Gauge({
    name: 'edgeworker_latest_sample_age_seconds',
    help: 'Age of the newest stored sample (any writer), by store kind; absent while the store cannot say',
    // A label, so that reset() removes the series: an unlabelled gauge would read 0 (fresh) while the store is down.
    labelNames: ['store'],
    registers: [registry],
    async collect() {
      const r = await report();
      this.reset();
      const store = r.components.metricsStore;
      if (typeof store?.latestSampleAt === 'string') this.set({ store: String(store.kind) }, Math.max(0, (now() - Date.parse(store.latestSampleAt)) / 1000));
    },
  });
}
