/**
 * The embedded store's write path beyond the shared contract: group commit, the rollup
 * hook, the replace path after a restart, many new POPs in one write, and files written
 * by the earlier row layout.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { createDuckDbMetricsStore } from './duckdb-metrics-store.ts';
import type { BatchInfo } from './write-path.ts';
import { sample } from '../metrics-store.contract.ts';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const ns = (ms: number) => BigInt(ms) * 1_000_000n;
const HOUR = 3_600_000;

function tempPath(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'ewm-write-path-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'metrics.duckdb');
}

const at = async (store: Awaited<ReturnType<typeof createDuckDbMetricsStore>>, ms: number, popCode?: string) => {
  const s = await store.summarize({ fromNs: ns(ms), toNs: ns(ms + 1) }, popCode ? { popCode } : undefined);
  return [s.overall.samples, s.overall.mean];
};

describe('DuckDB write path', () => {
  it('commits concurrent writes together, the later one winning on the same point, and shows each transaction to onBatch', async (t) => {
    const batches: Array<BatchInfo & { seen: number }> = [];
    const store = await createDuckDbMetricsStore({
      path: tempPath(t),
      onBatch: async (conn, info) => {
        // Inside the transaction: the batch's rows are in the table, not yet committed.
        const r = await conn.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM cold_start_metrics WHERE time_ns BETWEEN ${info.minTimeNs} AND ${info.maxTimeNs}`);
        batches.push({ ...info, seen: Number(r.getRowObjectsJS()[0]!.n) });
      },
    });
    t.after(() => store.close());
    const writes = [1, 2, 3, 4, 5, 6].map((v) => store.write([sample({ t: T0, v }), sample({ t: T0 + v * 1000, v })]));
    await Promise.all(writes);
    assert.deepEqual(await at(store, T0), [1, 6]);
    assert.equal((await store.summarize({ fromNs: ns(T0), toNs: ns(T0 + HOUR) })).overall.samples, 7);
    // The first write goes alone; the five queued behind it share the next transaction.
    assert.equal(batches.length, 2);
    // Rows in range inside each transaction: 2, then 7 (the five copies of T0 are one point now).
    assert.deepEqual(batches.map((b) => [b.points, b.timesNs.length, b.seen]), [[2, 2, 2], [10, 10, 7]]);
    assert.deepEqual([batches[1]!.minTimeNs, batches[1]!.maxTimeNs], [ns(T0), ns(T0 + 6000)]);
    assert.equal(batches[0]!.replaced, false);
    assert.equal(batches[1]!.replaced, true, 'the second transaction replaces the first one\'s point at T0');
  });

  it('fails only the write whose transaction fails, and the hook can fail it', async (t) => {
    let refuse = -1;
    const store = await createDuckDbMetricsStore({
      path: tempPath(t),
      onBatch: async (conn) => {
        const r = await conn.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM cold_start_metrics WHERE cold_start_time_ms = $v`, { v: refuse });
        if (Number(r.getRowObjectsJS()[0]!.n) > 0) throw new Error('refused by the hook');
      },
    });
    t.after(() => store.close());
    await store.write([sample({ t: T0, v: 1 })]); // keeps the next ones queued together
    refuse = 13;
    const results = await Promise.allSettled([
      store.write([sample({ t: T0 + 1000, v: 2, popCode: 'AAA', latitude: 1, longitude: 1 })]),
      store.write([sample({ t: T0 + 2000, v: 13, popCode: 'BAD', latitude: 1, longitude: 1 })]),
      store.write([sample({ t: T0 + 3000, v: 4, functionName: 'fn-new' })]),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.match(String((results[1] as PromiseRejectedResult).reason), /refused by the hook/);
    assert.deepEqual(await at(store, T0 + 2000), [0, null]);
    assert.deepEqual((await store.seenPops()).map((p) => p.popCode).sort(), ['AAA', 'FRA']);
    assert.deepEqual(await store.seenFunctions(), ['fn-new', 'ssr-render']);
    assert.equal(await store.latestSampleNs(), ns(T0 + 3000));
  });

  it('replaces points after a restart, also of series quiet for longer than the start-up lookback', async (t) => {
    const path = tempPath(t);
    let store = await createDuckDbMetricsStore({ path });
    t.after(() => store.close());
    await store.write([
      sample({ t: T0, v: 1 }),
      sample({ t: T0, v: 1, popCode: 'AMS', city: 'Amsterdam' }),
      sample({ t: T0 + 3 * HOUR, v: 1 }),
    ]);
    await store.close();
    store = await createDuckDbMetricsStore({ path });
    // FRA was written within the last hour of data; AMS only 3 hours before the newest point.
    await store.write([sample({ t: T0, v: 2 }), sample({ t: T0, v: 3, popCode: 'AMS', city: 'Amsterdam' })]);
    assert.deepEqual(await at(store, T0, 'FRA'), [1, 2]);
    assert.deepEqual(await at(store, T0, 'AMS'), [1, 3]);
    // Newer than anything stored: appended, and replaced again by the next write of it.
    await store.write([sample({ t: T0 + 4 * HOUR, v: 5 })]);
    await store.write([sample({ t: T0 + 4 * HOUR, v: 6 }), sample({ t: T0 + 4 * HOUR + 1, v: 7 })]);
    assert.deepEqual(await at(store, T0 + 4 * HOUR), [1, 6]);
    assert.equal((await store.summarize({ fromNs: 0n, toNs: ns(T0 + 5 * HOUR) })).overall.samples, 5);
  });

  it('stores 20,000 new POPs in one write and keeps a one-line write beside a 3,000-POP one working', async (t) => {
    const store = await createDuckDbMetricsStore({ path: tempPath(t) });
    t.after(() => store.close());
    const newPops = (prefix: string, n: number, time: number) =>
      Array.from({ length: n }, (_, i) => sample({ t: time, v: i % 500, popCode: `${prefix}${i}`, city: `City ${i}`, latitude: (i % 180) - 89, longitude: (i % 360) - 179 }));
    await store.write(newPops('P', 20_000, T0));
    const seen = await store.seenPops();
    assert.equal(seen.length, 20_000);
    assert.deepEqual(seen.find((p) => p.popCode === 'P12345'), { popCode: 'P12345', city: 'City 12345', country: 'DE', tier: 'tier1', lat: (12345 % 180) - 89, lon: (12345 % 360) - 179, lastSeenNs: ns(T0) });
    assert.equal((await store.summarize({ fromNs: ns(T0), toNs: ns(T0 + 1) })).byPop.length, 20_000);

    const big = store.write(newPops('Q', 3_000, T0 + 1000));
    const one = store.write([sample({ t: T0 + 2000, v: 42 })]);
    await Promise.all([big, one]);
    assert.deepEqual(await at(store, T0 + 2000), [1, 42]);
    assert.equal((await store.seenPops()).length, 23_001);
  });

  it('opens a file of the earlier layout (POP metadata on every row) and keeps its data', async (t) => {
    const path = tempPath(t);
    const old = await DuckDBInstance.create(path);
    const conn = await old.connect();
    await conn.run(`CREATE TABLE cold_start_metrics (time_ns BIGINT NOT NULL, pop_code VARCHAR NOT NULL, city VARCHAR NOT NULL,
      country VARCHAR NOT NULL, tier VARCHAR NOT NULL, function_name VARCHAR NOT NULL, cold_start_time_ms DOUBLE NOT NULL,
      latitude DOUBLE NOT NULL, longitude DOUBLE NOT NULL)`);
    await conn.run(`INSERT INTO cold_start_metrics VALUES (${ns(T0)}, 'FRA', 'Frankfurt', 'DE', 'tier1', 'ssr-render', 10, 50.03, 8.57),
      (${ns(T0 + 1000)}, 'FRA', 'Frankfurt', 'DE', 'tier1', 'ssr-render', 20, 50.03, 8.57)`);
    conn.closeSync();
    old.closeSync();

    const store = await createDuckDbMetricsStore({ path });
    t.after(() => store.close());
    await store.write([sample({ t: T0 + 1000, v: 30 }), sample({ t: T0 + 2000, v: 40 })]);
    const s = await store.summarize({ fromNs: ns(T0), toNs: ns(T0 + HOUR) });
    assert.deepEqual([s.overall.samples, s.overall.mean], [3, (10 + 30 + 40) / 3]);
  });
});
