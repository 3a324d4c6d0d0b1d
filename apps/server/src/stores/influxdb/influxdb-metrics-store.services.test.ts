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
import { createResilientMetricsStore } from '../resilient-metrics-store.ts';


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

describe('InfluxDB store with hostile names (issue 15: M1)', () => {
  it('escapes newlines, quotes and backslashes in names, so InfluxDB answers instead of failing', async () => {
    const store = await createInfluxDbMetricsStore({ url: influxd().url, db: 'hostile_names', timeoutMs: 5000 });
    const now = Date.now();
    await store.write([sample({ t: now - 1000, v: 7, functionName: "it's\\odd" })]);
    const range = { fromNs: BigInt(now - 60_000) * 1_000_000n, toNs: BigInt(now + 1) * 1_000_000n };
    assert.equal((await store.summarize(range, { functionName: "it's\\odd" })).overall.samples, 1);
    for (const name of ['ssr\nrender', 'a\n\'; DROP DATABASE "hostile_names"', '\\n', '\n']) {
      assert.equal((await store.summarize(range, { functionName: name })).overall.samples, 0, JSON.stringify(name));
    }
    assert.equal((await store.summarize(range)).overall.samples, 1, 'the data is still there');
  });

  it('does not open the breaker for statements InfluxDB rejects, and writes go on', async () => {
    const store = createResilientMetricsStore(await createInfluxDbMetricsStore({ url: influxd().url, db: 'rejected', timeoutMs: 5000 }), { failureThreshold: 3 });
    await store.write([sample({ t: Date.now(), v: 1 })]);
    // A step of 0 ms and an end past int64 nanoseconds: a statement InfluxDB refuses.
    for (let i = 0; i < 6; i++) {
      await assert.rejects(store.timeseries('FRA', { fromNs: 0n, toNs: 10n ** 19n }, 0), (err: Error) => err instanceof InfluxError && err.kind === 'query');
    }
    assert.equal(store.breaker().state, 'closed');
    await store.write([sample({ t: Date.now(), v: 1 })]);
    assert.equal(store.breakers().writes.state, 'closed');
  });
});
