/**
 * A real store behind a switch: while `down`, every call fails the way an
 * unreachable backend does. Lets unit tests drive outages of the embedded store
 * (the real InfluxDB outage is tested by stopping influxd in the services tests).
 */
import { wrapMetricsStore, type MetricsStore } from '../stores/metrics-store.ts';

export interface SwitchableStore extends MetricsStore {
  down: boolean;
  calls: number;
}

export function switchable(inner: MetricsStore): SwitchableStore {
  const state = { down: false, calls: 0 };
  const store = wrapMetricsStore(inner, (_name, fn) => async (...args) => {
    state.calls++;
    if (state.down) throw new Error('connect ECONNREFUSED 127.0.0.1:8086');
    return fn(...args);
  });
  return Object.defineProperties(store, {
    down: { get: () => state.down, set: (v: boolean) => (state.down = v) },
    calls: { get: () => state.calls },
  }) as SwitchableStore;
}
