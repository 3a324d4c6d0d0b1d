/**
 * On a real influxd: seriesBuckets from raw values bucketed in JS (series-buckets.ts)
 * answers exactly what InfluxDB's own GROUP BY time() with count/mean/median answered
 * (the statement it replaced for short ranges): same windows, same counts, bit-identical
 * means and medians, including windows of several samples with an even count.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ColdStartSample } from '@edgeworker/schema';
import { useInfluxdForFile } from '../../testing/influxd.ts';
import { createInfluxClient } from './influx-client.ts';
import { createInfluxDbMetricsStore } from './influxdb-metrics-store.ts';
import { q } from './influxql.ts';
import type { SeriesBucket } from '../metrics-store.ts';
import { wrapMetricsStore } from '../metrics-store.ts';

const influxd = useInfluxdForFile();
const T0 = Date.UTC(2026, 0, 5, 12);
const ns = (ms: number) => BigInt(ms) * 1_000_000n;
const order = (a: SeriesBucket, b: SeriesBucket) =>
  a.popCode < b.popCode ? -1 : a.popCode > b.popCode ? 1 : a.functionName < b.functionName ? -1 : a.functionName > b.functionName ? 1 : a.startMs - b.startMs;

describe('InfluxDB seriesBuckets from raw values', () => {
  it('returns exactly what GROUP BY time() with count, mean and median returned, in time order', async () => {
    await influxd().createDatabase('sb');
    const store = await createInfluxDbMetricsStore({ url: influxd().url, db: 'sb', timeoutMs: 30_000, now: () => T0 + 3_600_000 });
    const client = createInfluxClient({ url: influxd().url, db: 'sb', timeoutMs: 30_000 });
    let seed = 5;
    const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const samples: ColdStartSample[] = [];
    const pops = Array.from({ length: 8 }, (_, i) => (i === 2 ? 'O R,x' : `P${i}`));
    for (const [pi, pop] of pops.entries()) {
      for (const fn of ['ssr-render', 'auth-check', 'fn "x"']) {
        for (let s = T0; s < T0 + 20 * 60_000; s += 10_000) {
          if (pi === 4 && s > T0 + 5 * 60_000 && s < T0 + 9 * 60_000) continue;
          const many = rand() < 0.25 ? 2 + Math.floor(rand() * 4) : 1;
          for (let j = 0; j < many; j++) {
            samples.push({ timeNs: ns(s + j * 1500 + Math.floor(rand() * 1000)) + BigInt(Math.floor(rand() * 999_999)), popCode: pop, city: 'C', country: 'XX', tier: 'tier1', functionName: fn, coldStartTimeMs: 20 + rand() * 400, latitude: 0, longitude: 0 });
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
    // Through a wrapper, as the app uses it (resilient, traced): the columns call passes through.
    const wrapped = wrapMetricsStore(store, (_name, fn) => fn);
    for (const [i, c] of cases.entries()) {
      const range = { fromNs: ns(c.from), toNs: ns(c.to) };
      const now = await store.seriesBuckets(range, c.step);
      for (let j = 1; j < now.length; j++) assert.ok(now[j - 1]!.startMs <= now[j]!.startMs, 'buckets come in time order');
      const cols = await wrapped.seriesBucketColumns!(range, c.step);
      const expanded = Array.from(cols.startMs, (startMs, j) => ({
        popCode: cols.pops[cols.series[j]!]!, functionName: cols.functions[cols.series[j]!]!, startMs, samples: cols.samples[j]!, mean: cols.mean[j]!, p50: cols.p50[j]!,
      }));
      assert.deepEqual(expanded, now, 'the columns are the same buckets in the same order');
      // The statement InfluxDB aggregated with (still used for long ranges): the reference.
      const [res] = await client.query([q.seriesBuckets(range, c.step)]);
      const before: SeriesBucket[] = [];
      for (const s of res ?? []) {
        const [iN, iMean, iP50] = ['n', 'mean', 'p50'].map((name) => s.columns.indexOf(name)) as [number, number, number];
        for (const row of s.values) {
          if (!((row[iN] as number) > 0)) continue;
          before.push({ popCode: s.tags!.pop_code!, functionName: s.tags!.function_name!, startMs: Number(row[0]), samples: row[iN] as number, mean: row[iMean] as number, p50: row[iP50] as number });
        }
      }
      if (i < 3) assert.ok(before.length > 100 && before.some((b) => b.samples % 2 === 0 && b.samples > 1), 'the case has data, with windows of an even count');
      assert.deepEqual([...now].sort(order), before.sort(order), `case ${i}`);
    }
    await store.close();
  });
});
