/**
 * The chunked seriesBuckets read (series-buckets.ts) answers exactly what the row-object
 * statement it replaced answered, on a real DuckDB file: same buckets, same counts, and
 * bit-identical means and medians.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { ColdStartSample } from '@edgeworker/schema';
import { createDuckDbMetricsStore } from './duckdb-metrics-store.ts';
import { readSeriesBucketColumns } from './series-buckets.ts';
import type { SeriesBucket } from '../metrics-store.ts';

const T0 = Date.UTC(2026, 0, 5, 12);
const ns = (ms: number) => BigInt(ms) * 1_000_000n;

/** The statement seriesBuckets ran before (row objects): the reference. */
async function previousAnswer(path: string, fromMs: number, toMs: number, stepMs: number): Promise<SeriesBucket[]> {
  const inst = await DuckDBInstance.create(path);
  const conn = await inst.connect();
  try {
    const rows = (await conn.runAndReadAll(
      `SELECT pop_code, function_name, (time_ns // $step) * $step AS bucket, count(*) AS n,
         avg(cold_start_time_ms) AS mean, quantile_cont(cold_start_time_ms, 0.5) AS p50
       FROM cold_start_metrics WHERE time_ns >= $from AND time_ns < $to GROUP BY ALL`,
      { from: ns(fromMs), to: ns(toMs), step: ns(stepMs) },
    )).getRowObjectsJS();
    return rows.map((r) => ({
      popCode: String(r.pop_code), functionName: String(r.function_name), startMs: Number((r.bucket as bigint) / 1_000_000n),
      samples: Number(r.n), mean: Number(r.mean), p50: Number(r.p50),
    }));
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}

const order = (a: SeriesBucket, b: SeriesBucket) =>
  a.popCode < b.popCode ? -1 : a.popCode > b.popCode ? 1 : a.functionName < b.functionName ? -1 : a.functionName > b.functionName ? 1 : a.startMs - b.startMs;

describe('DuckDB seriesBuckets read (chunks into typed arrays)', () => {
  it('returns exactly what the row-object statement returned, in time order', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ewm-series-buckets-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'metrics.duckdb');
    const store = await createDuckDbMetricsStore({ path, now: () => T0 + 3_600_000, warmBlocksHours: 0 });
    // 12 POPs x 3 functions over 20 min, irregular: most buckets one sample, some several
    // (median of an even count), some series silent for a while, odd names.
    let seed = 7;
    const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const samples: ColdStartSample[] = [];
    const pops = Array.from({ length: 12 }, (_, i) => (i === 3 ? "O'R\u00e9" : `P${i}`));
    for (const [pi, pop] of pops.entries()) {
      for (const fn of ['ssr-render', 'auth-check', 'fn "x"']) {
        for (let s = T0; s < T0 + 20 * 60_000; s += 10_000) {
          if (pi === 5 && s > T0 + 5 * 60_000 && s < T0 + 9 * 60_000) continue;
          const many = rand() < 0.2 ? 2 + Math.floor(rand() * 4) : 1;
          for (let j = 0; j < many; j++) {
            samples.push({ timeNs: ns(s + Math.floor(rand() * 9_999)) + BigInt(j), popCode: pop, city: 'C', country: 'XX', tier: 'tier1', functionName: fn, coldStartTimeMs: 20 + rand() * 400, latitude: 0, longitude: 0 });
          }
        }
      }
    }
    await store.write(samples);
    const cases = [
      { from: T0, to: T0 + 20 * 60_000, step: 10_000 },
      { from: T0 + 3 * 60_000 + 1234, to: T0 + 11 * 60_000, step: 10_000 },
      { from: T0, to: T0 + 20 * 60_000, step: 60_000 },
      { from: T0 + 30 * 60_000, to: T0 + 40 * 60_000, step: 10_000 }, // empty
    ];
    const got: SeriesBucket[][] = [];
    for (const c of [...cases, { from: T0, to: T0 + 20 * 60_000, step: 600_000 }]) {
      const range = { fromNs: ns(c.from), toNs: ns(c.to) };
      const objects = await store.seriesBuckets(range, c.step);
      // The columns the detector reads are the same buckets (ties of a bucket start come in any order).
      const cols = await store.seriesBucketColumns(range, c.step);
      const expanded = Array.from(cols.startMs, (startMs, j) => ({
        popCode: cols.pops[cols.series[j]!]!, functionName: cols.functions[cols.series[j]!]!, startMs, samples: cols.samples[j]!, mean: cols.mean[j]!, p50: cols.p50[j]!,
      }));
      for (let j = 1; j < expanded.length; j++) assert.ok(expanded[j - 1]!.startMs <= expanded[j]!.startMs, 'columns come in time order');
      assert.deepEqual(expanded.sort(order), [...objects].sort(order));
      got.push(objects);
    }
    await store.close();
    for (const [i, c] of cases.entries()) {
      const now: SeriesBucket[] = got[i]!;
      for (let j = 1; j < now.length; j++) assert.ok(now[j - 1]!.startMs <= now[j]!.startMs, 'buckets come in time order');
      const before = await previousAnswer(path, c.from, c.to, c.step);
      if (i < 3) assert.ok(before.length > 100 && before.some((b) => b.samples > 2), 'the case has data, with buckets of several samples');
      assert.deepEqual([...now].sort(order), before.sort(order), `case ${i}`);
    }
  });

  it('reads a streamed result past its first guess of the size (the store streams; docs/notes/rss-4.md) as a materialized one', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ewm-series-buckets-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'metrics.duckdb');
    const store = await createDuckDbMetricsStore({ path, now: () => T0 + 3_600_000, warmBlocksHours: 0 });
    // 40 POPs x 5 functions x 1 h at 10 s: 72,000 samples, past the 65,536 rows a streamed read starts with.
    const samples: ColdStartSample[] = [];
    for (let p = 0; p < 40; p++) for (let f = 0; f < 5; f++) for (let s = T0; s < T0 + 3_600_000; s += 10_000) {
      samples.push({ timeNs: ns(s + p * 7 + f), popCode: `P${p}`, city: 'C', country: 'XX', tier: 'tier1', functionName: `f${f}`, coldStartTimeMs: 20 + ((p * 31 + f * 17 + s / 10_000) % 400), latitude: 0, longitude: 0 });
    }
    await store.write(samples);
    const range = { fromNs: ns(T0), toNs: ns(T0 + 3_600_000) };
    const streamed = await store.seriesBucketColumns(range, 10_000);
    await store.close();
    const inst = await DuckDBInstance.create(path);
    const conn = await inst.connect();
    t.after(() => (conn.closeSync(), inst.closeSync()));
    const materialized = await readSeriesBucketColumns((sql) => conn.run(sql), range, 10_000);
    const rows = (c: typeof streamed) => Array.from(c.startMs, (startMs, j) => `${c.pops[c.series[j]!]}|${c.functions[c.series[j]!]}|${startMs}|${c.samples[j]}|${c.mean[j]}|${c.p50[j]}`).sort();
    assert.equal(streamed.startMs.length, 72_000);
    assert.deepEqual(rows(streamed), rows(materialized));
  });
});
