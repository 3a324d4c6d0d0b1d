/**
 * Span wrappers for the ports the request path crosses, applied by app.ts only while
 * tracing is on (so a server without tracing runs the bare adapters): every metrics
 * store call (through the breaker, so a fast failure shows too) and every cache call.
 */
import type { Cache } from '../cache/cache.ts';
import { wrapMetricsStore } from '../stores/metrics-store.ts';
import type { ResilientMetricsStore } from '../stores/resilient-metrics-store.ts';
import { inSpan, traceCalls } from './spans.ts';

export function traceMetricsStore(store: ResilientMetricsStore): ResilientMetricsStore {
  const attributes = { 'db.system.name': store.kind };
  const traced = wrapMetricsStore(store, (call, fn) => (...args) => inSpan(`store.${call}`, { kind: 'client', attributes }, () => fn(...args)));
  return Object.assign(traced, { breaker: () => store.breaker(), breakers: () => store.breakers() });
}

export function traceCache(cache: Cache): Cache {
  return traceCalls(cache, 'cache', ['get', 'set', 'dataVersion', 'bumpDataVersion'], { 'cache.kind': cache.kind });
}
