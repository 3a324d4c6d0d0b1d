/**
 * Prometheus metrics of the detector, on the app's own registry (see health/metrics.ts).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { LookResult, PassResult } from './detector-service.ts';
import type { LateRederiveState } from './late-rederives.ts';

/** `late`: what late data owes the detector now (read at each scrape; absent: no detector yet). */
export function createDetectorMetrics(registry: Registry, late?: () => LateRederiveState | undefined) {
  const passes = new Counter({ name: 'edgeworker_detector_passes_total', help: 'Detector passes by result (ok, skipped, error)', labelNames: ['result'], registers: [registry] });
  const duration = new Histogram({
    name: 'edgeworker_detector_pass_duration_seconds',
    help: 'Duration of detector passes that ran',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const alerts = new Counter({ name: 'edgeworker_detector_alerts_total', help: 'Alerts opened and resolved by the detector', labelNames: ['event'], registers: [registry] });
  const series = new Counter({ name: 'edgeworker_detector_series_evaluated_total', help: 'Series judged, summed over passes', registers: [registry] });
  const rederives = new Counter({
    name: 'edgeworker_detector_rederives_total',
    help: "Passes that re-derived engine state from the store, by kind: 'pops' (late data's POPs only) or 'all' (every series: a fresh engine, late data of unknown or too many POPs)",
    labelNames: ['kind'],
    registers: [registry],
  });
  const deferred = new Counter({ name: 'edgeworker_detector_rederive_deferred_passes_total', help: 'Passes at which the late-data budget deferred an owed re-derive', registers: [registry] });
  for (const kind of ['pops', 'all']) rederives.inc({ kind }, 0);
  // From the start, at 0 (docs/alerts.yml): with no `ok` series (no replica has led since it
  // started, e.g. Redis down through a deploy) EdgeworkerNoDetectorLeader's sum(increase(ok)) was
  // empty, not 0, and never fired; and an `error` series born at 1 has no increase().
  for (const result of ['ok', 'skipped', 'error']) passes.inc({ result }, 0);
  new Gauge({
    name: 'edgeworker_detector_rederive_owed',
    help: "Re-derive owed to late data: kind 'pops' is how many POPs' series, kind 'all' is 1 when every series is",
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const owed = late?.()?.owed ?? null;
      this.set({ kind: 'pops' }, typeof owed === 'number' ? owed : 0);
      this.set({ kind: 'all' }, owed === 'all' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'edgeworker_detector_rederive_budget',
    help: 'Full re-derives worth the late-data budget holds (refills one per 8 min, at most 2)',
    registers: [registry],
    collect() {
      const l = late?.();
      if (l) this.set(l.budget);
    },
  });
  const wander = new Gauge({
    name: 'edgeworker_detector_function_wander',
    help: "A function's level wander beyond its noise over minutes as the detector counts it (standard deviation, log scale: 0.03 is about 3 %); its CUSUMs' k is raised by it",
    labelNames: ['function'],
    registers: [registry],
  });
  const burst = new Gauge({
    name: 'edgeworker_detector_function_burst',
    help: "How much more a 2.5-minute mean of a function's samples varies than independent samples would (1: as much); its CUSUMs' sigma is scaled by its square root",
    labelNames: ['function'],
    registers: [registry],
  });
  const heldBack = new Gauge({
    name: 'edgeworker_detector_series_held_back',
    help: 'Series whose buckets land in parts (several agents, each flushing every few seconds): at the last pass, their newest buckets waited (one to three passes) to be judged whole',
    registers: [registry],
  });
  const looks = new Counter({ name: 'edgeworker_detector_early_looks_total', help: 'Early looks between passes (DETECTOR_EARLY) that ran, by result (ok, error)', labelNames: ['result'], registers: [registry] });
  const lookDuration = new Histogram({
    name: 'edgeworker_detector_early_look_duration_seconds',
    help: 'Duration of early looks that ran (a read of the bucket still filling, the judgement, the alerts it opened)',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  for (const result of ['ok', 'error']) looks.inc({ result }, 0);
  /** After each early look: its count and duration, and the alerts it opened (in edgeworker_detector_alerts_total too). */
  const onLook = (result: LookResult | null, error: unknown) => {
    if (error || !result) {
      looks.inc({ result: 'error' });
      return;
    }
    looks.inc({ result: 'ok' });
    lookDuration.observe(result.durationMs / 1000);
    if (result.created.length) alerts.inc({ event: 'opened' }, result.created.length);
  };
  const onPass = (result: PassResult | null, error: unknown) => {
    if (error || !result) {
      passes.inc({ result: 'error' });
      return;
    }
    passes.inc({ result: result.skipped ? 'skipped' : 'ok' });
    duration.observe(result.durationMs / 1000);
    series.inc(result.evaluated);
    if (result.heldBack !== undefined) heldBack.set(result.heldBack);
    // Only the functions this pass measured: a function that stopped being measured (fewer than 5
    // series, DETECTOR_WANDER off, a cold standby that skips) must not keep its last value.
    wander.reset();
    burst.reset();
    for (const [fn, w] of Object.entries(result.wander ?? {})) {
      wander.set({ function: fn }, w.level);
      burst.set({ function: fn }, w.burst);
    }
    if (result.created.length) alerts.inc({ event: 'opened' }, result.created.length);
    if (result.resolved.length) alerts.inc({ event: 'resolved' }, result.resolved.length);
    if (result.rederived) rederives.inc({ kind: result.rederived === 'all' ? 'all' : 'pops' });
    if (result.rederiveDeferred) deferred.inc();
  };
  return Object.assign(onPass, { onLook });
}
