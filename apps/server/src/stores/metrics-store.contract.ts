/**
 * The contract every MetricsStore adapter must meet. Adapter test files call
 * `metricsStoreContract(name, open)`; `open` returns a fresh, empty store.
 * Percentiles are checked against a reference computed here with the same
 * continuous (linear interpolation) definition, within `percentileTolerance`
 * (relative), since engines estimate them differently.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ColdStartSample } from '@edgeworker/schema';
import type { MetricsStore } from './metrics-store.ts';

export interface ContractOptions {
  /** Relative tolerance for p50/p95/p99 compared to the exact value. */
  percentileTolerance?: number;
  /** Closes `store` and opens the same data again (durable adapters), as a restart does. */
  reopen?: (store: MetricsStore) => Promise<MetricsStore>;
}

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const ns = (ms: number) => BigInt(ms) * 1_000_000n;

export function sample(over: Partial<ColdStartSample> & { t: number; v: number }): ColdStartSample {
  const { t, v, ...rest } = over;
  return {
    timeNs: ns(t),
    popCode: 'FRA',
    city: 'Frankfurt',
    country: 'DE',
    tier: 'tier1',
    functionName: 'ssr-render',
    coldStartTimeMs: v,
    latitude: 50.03,
    longitude: 8.57,
    ...rest,
  };
}

export function exactQuantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export function metricsStoreContract(name: string, open: () => Promise<MetricsStore>, options: ContractOptions = {}) {
  const tol = options.percentileTolerance ?? 0.001;
  const near = (actual: number | null, expected: number, what: string) => {
    assert.ok(actual !== null, `${what} is null`);
    assert.ok(Math.abs(actual - expected) <= Math.abs(expected) * tol + 1e-9, `${what}: ${actual} vs ${expected}`);
  };

  describe(`MetricsStore contract: ${name}`, () => {
    it('summarizes overall and per POP over a half-open range', async (t) => {
      const store = await open();
      t.after(() => store.close());
      const fra = Array.from({ length: 50 }, (_, i) => 100 + i * 3);
      const ams = Array.from({ length: 30 }, (_, i) => 200 + (i % 7) * 11);
      await store.write(fra.map((v, i) => sample({ t: T0 + i * 1000, v })));
      await store.write(ams.map((v, i) => sample({ t: T0 + i * 1000, v, popCode: 'AMS', city: 'Amsterdam', country: 'NL' })));
      // Outside the range on both sides: excluded (to is exclusive).
      await store.write([sample({ t: T0 - 1, v: 9999 }), sample({ t: T0 + 5 * MIN, v: 9999 })]);

      const s = await store.summarize({ fromNs: ns(T0), toNs: ns(T0 + 5 * MIN) });
      const all = [...fra, ...ams];
      assert.equal(s.overall.samples, all.length);
      near(s.overall.mean, mean(all), 'overall mean');
      near(s.overall.p50, exactQuantile(all, 0.5), 'overall p50');
      near(s.overall.p95, exactQuantile(all, 0.95), 'overall p95');
      near(s.overall.p99, exactQuantile(all, 0.99), 'overall p99');
      const byPop = new Map(s.byPop.map((p) => [p.popCode, p]));
      assert.deepEqual([...byPop.keys()].sort(), ['AMS', 'FRA']);
      assert.equal(byPop.get('FRA')!.samples, 50);
      near(byPop.get('FRA')!.mean, mean(fra), 'FRA mean');
      near(byPop.get('AMS')!.p95, exactQuantile(ams, 0.95), 'AMS p95');
      const onlyAms = await store.summarize({ fromNs: ns(T0), toNs: ns(T0 + 5 * MIN) }, { popCode: 'AMS' });
      assert.equal(onlyAms.overall.samples, ams.length);
      assert.deepEqual(onlyAms.byPop.map((p) => p.popCode), ['AMS']);
    });

    it('filters by function and reports an empty range as no samples', async (t) => {
      const store = await open();
      t.after(() => store.close());
      await store.write([
        sample({ t: T0, v: 10, functionName: 'auth-check' }),
        sample({ t: T0 + 1, v: 30, functionName: 'auth-check' }),
        sample({ t: T0 + 2, v: 500, functionName: 'ssr-render' }),
      ]);
      const s = await store.summarize({ fromNs: ns(T0), toNs: ns(T0 + MIN) }, { functionName: 'auth-check' });
      assert.equal(s.overall.samples, 2);
      near(s.overall.mean, 20, 'filtered mean');
      const empty = await store.summarize({ fromNs: ns(T0 + MIN), toNs: ns(T0 + 2 * MIN) });
      assert.deepEqual(empty, { overall: { samples: 0, mean: null, p50: null, p95: null, p99: null }, byPop: [], resolution: 'raw' });
    });

    it('breaks one POP down by function', async (t) => {
      const store = await open();
      t.after(() => store.close());
      await store.write([
        sample({ t: T0, v: 10, functionName: 'auth-check' }),
        sample({ t: T0 + 1, v: 20, functionName: 'auth-check' }),
        sample({ t: T0 + 2, v: 300, functionName: 'ssr-render' }),
        sample({ t: T0 + 3, v: 999, functionName: 'ssr-render', popCode: 'AMS' }),
      ]);
      const rows = await store.byFunction('FRA', { fromNs: ns(T0), toNs: ns(T0 + MIN) });
      assert.deepEqual(rows.map((r) => [r.functionName, r.samples, r.mean]), [
        ['auth-check', 2, 15],
        ['ssr-render', 1, 300],
      ]);
    });

    it('gives every series its count and mean, for POP statuses', async (t) => {
      const store = await open();
      t.after(() => store.close());
      await store.write([
        sample({ t: T0, v: 10, functionName: 'auth-check' }),
        sample({ t: T0 + 1, v: 20, functionName: 'auth-check' }),
        sample({ t: T0 + 2, v: 300, functionName: 'ssr-render' }),
        sample({ t: T0 + 3, v: 999, functionName: 'ssr-render', popCode: 'AMS' }),
      ]);
      const range = { fromNs: ns(T0), toNs: ns(T0 + MIN) };
      const key = (m: { popCode: string; functionName: string; samples: number; mean: number }) => [m.popCode, m.functionName, m.samples, Math.round(m.mean * 1e6) / 1e6];
      const rows = (await store.seriesMeans(range)).map(key).sort((a, b) => String(a[0]) + a[1] < String(b[0]) + b[1] ? -1 : 1);
      assert.deepEqual(rows, [['AMS', 'ssr-render', 1, 999], ['FRA', 'auth-check', 2, 15], ['FRA', 'ssr-render', 1, 300]]);
      assert.deepEqual((await store.seriesMeans(range, { functionName: 'ssr-render' })).map(key).sort(), [['AMS', 'ssr-render', 1, 999], ['FRA', 'ssr-render', 1, 300]]);
      assert.deepEqual(await store.seriesMeans({ fromNs: ns(T0 + MIN), toNs: ns(T0 + 2 * MIN) }), []);
    });

    it('buckets a time series on step boundaries aligned to the epoch', async (t) => {
      const store = await open();
      t.after(() => store.close());
      const step = 10_000;
      // T0 is a multiple of 10 s; three buckets get data, one in the middle stays empty.
      await store.write([
        sample({ t: T0 + 1_000, v: 100 }),
        sample({ t: T0 + 9_999, v: 200 }),
        sample({ t: T0 + 10_000, v: 50 }),
        sample({ t: T0 + 35_000, v: 70 }),
        sample({ t: T0 + 35_001, v: 90, functionName: 'auth-check' }),
      ]);
      const { buckets } = await store.timeseries('FRA', { fromNs: ns(T0), toNs: ns(T0 + 40_000) }, step);
      assert.deepEqual(buckets.map((b) => [b.startMs - T0, b.samples, b.mean]), [
        [0, 2, 150],
        [10_000, 1, 50],
        [30_000, 2, 80],
      ]);
      const onlySsr = (await store.timeseries('FRA', { fromNs: ns(T0), toNs: ns(T0 + 40_000) }, step, { functionName: 'ssr-render' })).buckets;
      assert.equal(onlySsr.at(-1)!.samples, 1);
      assert.deepEqual((await store.timeseries('NOPE', { fromNs: ns(T0), toNs: ns(T0 + 40_000) }, step)).buckets, []);
    });

    it('buckets every (POP, function) series in one call, for the detector', async (t) => {
      const store = await open();
      t.after(() => store.close());
      const step = MIN;
      const fraSsr = [100, 110, 300, 120, 130];
      await store.write(fraSsr.map((v, i) => sample({ t: T0 + i * 5000, v })));
      await store.write([sample({ t: T0 + MIN + 1000, v: 500 }), sample({ t: T0 + MIN + 2000, v: 700 })]);
      await store.write([sample({ t: T0 + 3000, v: 40, functionName: 'auth-check' })]);
      await store.write([sample({ t: T0 + 4000, v: 90, popCode: 'AMS', city: 'Amsterdam', country: 'NL' })]);
      await store.write([sample({ t: T0 + 2 * MIN, v: 9999 })]); // outside [T0, T0 + 2 min)
      const got = (await store.seriesBuckets({ fromNs: ns(T0), toNs: ns(T0 + 2 * MIN) }, step))
        .map((b) => `${b.popCode}/${b.functionName}@${b.startMs - T0}:${b.samples}`)
        .sort();
      assert.deepEqual(got, ['AMS/ssr-render@0:1', 'FRA/auth-check@0:1', 'FRA/ssr-render@0:5', 'FRA/ssr-render@60000:2']);
      const all = await store.seriesBuckets({ fromNs: ns(T0), toNs: ns(T0 + 2 * MIN) }, step);
      const first = all.find((b) => b.popCode === 'FRA' && b.functionName === 'ssr-render' && b.startMs === T0)!;
      near(first.mean, mean(fraSsr), 'bucket mean');
      near(first.p50, exactQuantile(fraSsr, 0.5), 'bucket median');
      const second = all.find((b) => b.popCode === 'FRA' && b.functionName === 'ssr-render' && b.startMs === T0 + MIN)!;
      near(second.p50, 600, 'median of two');
    });

    it('reads the series of some POPs only (the detector re-deriving the POPs late data touched): the unfiltered answer restricted to them', async (t) => {
      const store = await open();
      t.after(() => store.close());
      // Codes with a quote, a backslash and a space: a POP code comes from clients.
      const odd = "O'R\\ 1";
      const pops = ['FRA', 'AMS', odd, 'LHR'];
      const batch: ColdStartSample[] = [];
      for (let i = 0; i < 3 * 60; i++) {
        for (const [k, popCode] of pops.entries()) {
          for (const functionName of ['ssr-render', 'auth-check']) batch.push(sample({ t: T0 + i * MIN + k * 1000, v: 50 + ((i * 7 + k * 13) % 40) + (functionName === 'auth-check' ? 5 : 0), popCode, functionName }));
        }
      }
      await store.write(batch);
      const key = (b: { popCode: string; functionName: string; startMs: number; samples: number; mean: number; p50: number }) =>
        JSON.stringify([b.popCode, b.functionName, b.startMs, b.samples, b.mean, b.p50]);
      // The detector's read (35 min of 10 s) and a long coarse one (3 h of 10 min: rollups or the server's windows).
      for (const [range, step] of [[{ fromNs: ns(T0 + 5 * MIN), toNs: ns(T0 + 40 * MIN) }, 10_000], [{ fromNs: ns(T0), toNs: ns(T0 + 3 * 60 * MIN) }, 10 * MIN]] as const) {
        const all = (await store.seriesBuckets(range, step)).map(key).sort();
        for (const want of [['FRA'], [odd, 'AMS'], ['NOPE'], []]) {
          const expected = all.filter((k) => want.includes(JSON.parse(k)[0]));
          assert.deepEqual((await store.seriesBuckets(range, step, { pops: want })).map(key).sort(), expected, `seriesBuckets of ${JSON.stringify(want)} at ${step} ms`);
          if (want.length > 0 && want[0] !== 'NOPE') assert.ok(expected.length > 0, 'the POPs have buckets');
          if (store.seriesBucketColumns) {
            const c = await store.seriesBucketColumns(range, step, { pops: want });
            const got = Array.from(c.series, (id, i) => key({ popCode: c.pops[id]!, functionName: c.functions[id]!, startMs: c.startMs[i]!, samples: c.samples[i]!, mean: c.mean[i]!, p50: c.p50[i]! }));
            for (let i = 1; i < c.startMs.length; i++) assert.ok(c.startMs[i - 1]! <= c.startMs[i]!, 'columns in time order');
            assert.deepEqual(got.sort(), expected, `seriesBucketColumns of ${JSON.stringify(want)} at ${step} ms`);
          }
        }
      }
    });

    it('remembers the POPs and functions it has seen, newest metadata winning', async (t) => {
      const store = await open();
      t.after(() => store.close());
      assert.deepEqual(await store.seenPops(), []);
      assert.equal(await store.latestSampleNs(), null);
      await store.write([sample({ t: T0, v: 1, popCode: 'ZZZ', city: 'Old', latitude: 1, longitude: 2 })]);
      await store.write([sample({ t: T0 + 1000, v: 1, popCode: 'ZZZ', city: 'New', latitude: 3, longitude: 4, functionName: 'fn-x' })]);
      const pops = await store.seenPops();
      assert.equal(pops.length, 1);
      assert.deepEqual({ ...pops[0], lastSeenNs: undefined }, {
        popCode: 'ZZZ', city: 'New', country: 'DE', tier: 'tier1', lat: 3, lon: 4, lastSeenNs: undefined,
      });
      assert.deepEqual(await store.seenFunctions(), ['fn-x', 'ssr-render']);
      assert.equal(await store.latestSampleNs(), ns(T0 + 1000));
    });

    it('keeps one point per series and time: the last write wins, across writes, inside one and after a restart', async (t) => {
      let store = await open();
      t.after(() => store.close());
      const at = T0 + 30_000;
      const only = async (when: number, filter?: { functionName?: string }) => {
        const s = await store.summarize({ fromNs: ns(when), toNs: ns(when + 1) }, filter);
        return [s.overall.samples, s.overall.mean];
      };
      for (const v of [10, 20, 30]) await store.write([sample({ t: at, v })]);
      // Neighbours in time and in series are other points.
      await store.write([sample({ t: at + 1000, v: 5 }), sample({ t: at, v: 7, functionName: 'auth-check' })]);
      // A body that repeats a point: its last copy is the one kept.
      await store.write([sample({ t: at + 2000, v: 1 }), sample({ t: at + 2000, v: 2 })]);
      assert.deepEqual(await only(at, { functionName: 'ssr-render' }), [1, 30]);
      assert.deepEqual(await only(at + 1000), [1, 5]);
      assert.deepEqual(await only(at + 2000), [1, 2]);
      assert.deepEqual(await only(at, { functionName: 'auth-check' }), [1, 7]);
      assert.equal((await store.summarize({ fromNs: ns(T0), toNs: ns(T0 + MIN) })).overall.samples, 4);
      if (!options.reopen) {
        t.diagnostic(`${name} is not durable: nothing to check across a restart`);
        return;
      }
      store = await options.reopen(store);
      assert.deepEqual(await only(at, { functionName: 'ssr-render' }), [1, 30]);
      await store.write([sample({ t: at, v: 40 })]);
      assert.deepEqual(await only(at, { functionName: 'ssr-render' }), [1, 40]);
      assert.equal((await store.summarize({ fromNs: ns(T0), toNs: ns(T0 + MIN) })).overall.samples, 4);
    });

    it('accepts an empty write and answers ping', async (t) => {
      const store = await open();
      t.after(() => store.close());
      await store.write([]);
      await store.ping();
      assert.equal((await store.summarize({ fromNs: 0n, toNs: ns(T0 * 2) })).overall.samples, 0);
    });
  });
}
