/**
 * The shared MetricsStore contract on a real InfluxDB (influxd spawned on a free
 * port). Each contract case gets a fresh database.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { metricsStoreContract, sample } from '../metrics-store.contract.ts';
import { useInfluxdForFile } from '../../testing/influxd.ts';
import { createInfluxDbMetricsStore } from './influxdb-metrics-store.ts';
import { InfluxError } from './influx-client.ts';
import { INFLUX_PERCENTILE_TOLERANCE } from './influxql.ts';
import type { MetricsStore } from '../metrics-store.ts';


let n = 0;
const influxd = useInfluxdForFile();

const dbOf = new WeakMap<MetricsStore, string>();
const openDb = async (db: string) => {
  const store = await createInfluxDbMetricsStore({ url: influxd().url, db, timeoutMs: 5000 });
  dbOf.set(store, db);
  return store;
};
metricsStoreContract('influxdb', () => openDb(`contract_${++n}`), {
  percentileTolerance: INFLUX_PERCENTILE_TOLERANCE,
  reopen: async (store) => {
    await store.close();
    return openDb(dbOf.get(store)!);
  },
});

describe('InfluxDB store failures', () => {
  it('says what failed when InfluxDB cannot be reached, and starts anyway', async () => {
    const store = await createInfluxDbMetricsStore({ url: 'http://127.0.0.1:1', db: 'x', timeoutMs: 1000 });
    await assert.rejects(store.ping(), (err: Error) => err instanceof InfluxError && err.kind === 'unreachable' && /cannot reach InfluxDB at http:\/\/127.0.0.1:1/.test(err.message));
    await assert.rejects(store.write([sample({ t: Date.now(), v: 1 })]), /cannot reach InfluxDB/);
  });

  it('names a bad query instead of hiding it', async () => {
    const store = await createInfluxDbMetricsStore({ url: influxd().url, db: 'bad_query', timeoutMs: 5000 });
    await store.write([sample({ t: Date.now(), v: 1 })]);
    // A step of 0 ms is invalid InfluxQL.
    await assert.rejects(store.timeseries('FRA', { fromNs: 0n, toNs: 10n ** 19n }, 0), (err: Error) => err instanceof InfluxError && err.kind === 'query');
  });
});
