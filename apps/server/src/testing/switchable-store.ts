/**
 * A real store behind a switch: while `down`, every call fails the way an
 * unreachable backend does. Lets unit tests drive outages of the embedded store
 * (the real InfluxDB outage is tested by stopping influxd in the services tests).
 */
import type { MetricsStore } from '../stores/metrics-store.ts';

export interface SwitchableStore extends MetricsStore {
  down: boolean;
  calls: number;
}

export function switchable(inner: MetricsStore): SwitchableStore {
  const s = { down: false, calls: 0 } as SwitchableStore;
  const wrap =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      s.calls++;
      if (s.down) throw new Error('connect ECONNREFUSED 127.0.0.1:8086');
      return fn(...a);
    };
  return Object.assign(s, {
    kind: inner.kind,
    write: wrap(inner.write.bind(inner)),
    summarize: wrap(inner.summarize.bind(inner)),
    byFunction: wrap(inner.byFunction.bind(inner)),
    timeseries: wrap(inner.timeseries.bind(inner)),
    seriesBuckets: wrap(inner.seriesBuckets.bind(inner)),
    seenPops: wrap(inner.seenPops.bind(inner)),
    seenFunctions: wrap(inner.seenFunctions.bind(inner)),
    latestSampleNs: wrap(inner.latestSampleNs.bind(inner)),
    ping: wrap(inner.ping.bind(inner)),
    close: () => inner.close(),
  });
}
