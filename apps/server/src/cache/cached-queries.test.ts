import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FUNCTIONS, POPS } from '@edgeworker/pops';
import { createDuckDbMetricsStore } from '../stores/duckdb/duckdb-metrics-store.ts';
import { sample } from '../stores/metrics-store.contract.ts';
import { createQueryService } from '../query/query-service.ts';
import { switchable } from '../testing/switchable-store.ts';
import { waitFor } from '../testing/wait.ts';
import { AppError } from '../http/errors.ts';
import { createMemoryCache } from './memory-cache.ts';
import { cacheKey, createCachedQueries, entriesJson } from './cached-queries.ts';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  let clock = T0;
  const now = () => clock;
  const store = switchable(await createDuckDbMetricsStore({ path: ':memory:', now }));
  t.after(() => store.close());
  const query = createQueryService({ store, catalog: POPS, functions: FUNCTIONS, thresholds: { warnMs: 200, critMs: 400 }, maxPoints: 1000, now, openRegressions: async () => 0 });
  const cache = createMemoryCache({ now });
  const outcomes: string[] = [];
  const cached = createCachedQueries({ query, cache, now, freshMs: 2000, revalidateMs: 10_000, onOutcome: (o) => outcomes.push(o) });
  return { store, cache, cached, outcomes, advance: (ms: number) => (clock += ms) };
}

describe('cached queries', () => {
  it('reuses an answer only while no new data landed and it is fresh', async (t) => {
    const { store, cache, cached, outcomes, advance } = await setup(t);
    await store.write([sample({ t: T0 - 1000, v: 100, popCode: 'FRA' })]);
    const a = await cached.overview(300_000, '5m');
    assert.equal(a.value.samples, 1);
    const callsAfterFirst = store.calls;
    assert.equal((await cached.overview(300_000, '5m')).value.samples, 1);
    assert.equal(store.calls, callsAfterFirst, 'second answer came from the cache');
    // New data: the version moves and the next answer includes it.
    await store.write([sample({ t: T0 - 500, v: 300, popCode: 'FRA' })]);
    await cache.bumpDataVersion();
    assert.equal((await cached.overview(300_000, '5m')).value.samples, 2);
    advance(100);
    assert.deepEqual(outcomes, ['miss', 'hit', 'miss']);
  });

  it("keeps the whole heatmap answer as the entry's JSON and sends a view on its entries (miss and hit alike)", async (t) => {
    const { store, cache, cached } = await setup(t);
    await store.write([sample({ t: T0 - 1000, v: 100, popCode: 'FRA' })]);
    const miss = await cached.heatmap(300_000);
    const hit = await cached.heatmap(300_000);
    for (const a of [miss, hit]) {
      assert.equal(a.resolution, 'raw');
      assert.equal(a.json?.toString('utf8'), JSON.stringify(a.value), 'the bytes sent are the entries as they are');
      assert.equal(a.value.find((e) => e.popCode === 'FRA')?.samples, 1);
    }
    // What a cache holds (and the Redis cache stores as the value) is the whole answer, resolution included.
    const stored = await cache.get<object>(cacheKey('heatmap-r2', 300_000, undefined));
    assert.ok(stored?.json, 'the heatmap entry, with its JSON');
    assert.deepEqual(JSON.parse(stored.json!.toString('utf8')), stored.value);
    assert.deepEqual(Object.keys(stored.value), ['resolution', 'entries']);
  });

  it("finds the entries inside a heatmap answer's JSON, and nothing in bytes of another shape", () => {
    const json = Buffer.from(JSON.stringify({ resolution: '1m', entries: [{ popCode: 'FRA' }] }));
    assert.equal(entriesJson(json, '1m')?.toString('utf8'), '[{"popCode":"FRA"}]');
    assert.equal(entriesJson(json, 'raw'), undefined, 'another resolution');
    assert.equal(entriesJson(Buffer.from('[{"popCode":"FRA"}]'), '1m'), undefined, "the array alone (an older build's entry)");
    assert.equal(entriesJson(Buffer.from(JSON.stringify({ entries: [], resolution: '1m' })), '1m'), undefined, 'other key order');
  });

  it('answers a slightly old entry at once and refreshes it in the background', async (t) => {
    const { store, cached, outcomes, advance } = await setup(t);
    await store.write([sample({ t: T0 - 1000, v: 100 })]);
    await cached.heatmap(300_000);
    advance(5000); // older than freshMs, younger than revalidateMs
    const calls = store.calls;
    const b = await cached.heatmap(300_000);
    assert.equal(b.staleAgeMs, undefined);
    await waitFor(() => store.calls > calls, 5000, 'the background recomputation');
    assert.deepEqual(outcomes, ['miss', 'revalidate']);
  });

  it('recomputes a same-version entry older than the revalidate window before answering', async (t) => {
    const { store, cached, outcomes, advance } = await setup(t);
    await store.write([sample({ t: T0 - 1000, v: 100, popCode: 'FRA' })]);
    assert.equal((await cached.overview(300_000, '5m')).value.samples, 1);
    // Data the version does not know about (say, a bump lost with a Redis blip), and time passing.
    await store.write([sample({ t: T0 - 500, v: 300, popCode: 'FRA' })]);
    advance(11_000); // older than revalidateMs (10 s), same data version
    const calls = store.calls;
    const late = await cached.overview(300_000, '5m');
    assert.ok(store.calls > calls, 'the store was asked again');
    assert.equal(late.value.samples, 2, 'the answer is the recomputed one, not the old entry');
    assert.equal(late.staleAgeMs, undefined);
    assert.deepEqual(outcomes, ['miss', 'miss']);
  });

  it('answers the last good result marked stale with its age while the store is down', async (t) => {
    const { store, cache, cached, advance } = await setup(t);
    await store.write([sample({ t: T0 - 1000, v: 100 })]);
    const good = await cached.popDetail('FRA', 300_000, '5m');
    await cache.bumpDataVersion();
    advance(42_000);
    store.down = true;
    const stale = await cached.popDetail('fra', 300_000, '5m');
    assert.equal(stale.staleAgeMs, 42_000);
    assert.deepEqual(stale.value, good.value);
    // A time series asked for a later range still finds the last good one of the same span.
    store.down = false;
    await cached.timeseries('FRA', T0 - 3_600_000, T0, 60_000);
    store.down = true;
    advance(5000);
    const ts = await cached.timeseries('FRA', T0 - 3_600_000 + 47_000, T0 + 47_000, 60_000);
    assert.equal(ts.staleAgeMs, 5000);
  });

  it('stops serving a recent entry as current once its refresh failed', async (t) => {
    const { store, cached, advance } = await setup(t);
    await store.write([sample({ t: T0 - 1000, v: 100 })]);
    await cached.heatmap(300_000);
    advance(3000);
    store.down = true;
    assert.equal((await cached.heatmap(300_000)).staleAgeMs, undefined, 'served while the refresh runs');
    // Once the background refresh has failed, the entry is answered marked stale.
    await waitFor(async () => (await cached.heatmap(300_000)).staleAgeMs === 3000, 5000, 'the entry marked stale after its refresh failed');
    store.down = false;
    assert.equal((await cached.heatmap(300_000)).staleAgeMs, undefined);
  });

  it('says the store is unavailable when there is nothing to fall back on', async (t) => {
    const { store, cached } = await setup(t);
    store.down = true;
    await assert.rejects(cached.heatmap(300_000, 'auth-check'), (err: Error) => err instanceof AppError && err.statusCode === 503 && err.code === 'store_unavailable' && /retry once the store is back/.test(err.message) && !/ECONNREFUSED|127\.0\.0\.1/.test(err.message) && /ECONNREFUSED/.test(String((err.cause as Error).message)));
  });

  it('never hides a client error behind a stale answer', async (t) => {
    const { store, cached } = await setup(t);
    await store.write([sample({ t: T0 - 1000, v: 100 })]);
    await assert.rejects(cached.popDetail('NOPE', 300_000, '5m'), (err: Error) => err instanceof AppError && err.statusCode === 404);
  });

  it('shares one computation between identical concurrent questions', async (t) => {
    const { store, cached } = await setup(t);
    await store.write([sample({ t: T0 - 1000, v: 100 })]);
    const calls = store.calls;
    await Promise.all(Array.from({ length: 20 }, () => cached.overview(300_000, '5m')));
    // One overview reads the store four times (pops, summary, latest, ...): not twenty times that.
    assert.ok(store.calls - calls <= 4, `${store.calls - calls} store calls`);
  });
});
