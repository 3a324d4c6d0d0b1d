/**
 * Prometheus metrics of the detector, on the app's own registry (see health/metrics.ts).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PassResult } from './detector-service.ts';

export function createDetectorMetrics(registry: Registry) {
  const passes = new Counter({ name: 'edgeworker_detector_passes_total', help: 'Detector passes by result (ok, skipped, error)', labelNames: ['result'], registers: [registry] });
  const duration = new Histogram({
    name: 'edgeworker_detector_pass_duration_seconds',
    help: 'Duration of detector passes that ran',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const alerts = new Counter({ name: 'edgeworker_detector_alerts_total', help: 'Alerts opened and resolved by the detector', labelNames: ['event'], registers: [registry] });
  const series = new Counter({ name: 'edgeworker_detector_series_evaluated_total', help: 'Series judged, summed over passes', registers: [registry] });
  const wander = new Gauge({
    name: 'edgeworker_detector_function_wander',
    help: "A function's level wander beyond its noise as the detector counts it (standard deviation, log scale: 0.03 is about 3 %); its CUSUMs are less eager by it",
    labelNames: ['function'],
    registers: [registry],
  });
  return (result: PassResult | null, error: unknown) => {
    if (error || !result) {
      passes.inc({ result: 'error' });
      return;
    }
    passes.inc({ result: result.skipped ? 'skipped' : 'ok' });
    duration.observe(result.durationMs / 1000);
    series.inc(result.evaluated);
    for (const [fn, v] of Object.entries(result.wander ?? {})) wander.set({ function: fn }, v);
    if (result.created.length) alerts.inc({ event: 'opened' }, result.created.length);
    if (result.resolved.length) alerts.inc({ event: 'resolved' }, result.resolved.length);
  };
}
