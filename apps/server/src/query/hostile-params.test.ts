/**
 * Query parameters a store cannot take are refused with 400 before they reach it, and
 * refusing them does not count against the store (issue 15: M1, L4, L5, H1's windows).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MemoryCache } from '../cache/memory-cache.ts';
import { getJson, line, startTestApp, write } from '../testing/start-app.ts';

describe('hostile query parameters', () => {
  it('refuses what a store cannot take with 400, and the store stays up for writes', async (t) => {
    const { url, app } = await startTestApp(t);
    const cases: Array<[string, string]> = [
      ['/api/dashboard/overview?function=ssr%0Arender', 'bad_request'],
      ['/api/heatmap?function=%0A', 'bad_request'],
      ['/api/heatmap?function=a%00b', 'bad_request'],
      ['/api/pops/FRA/timeseries?function=x%0A', 'bad_request'],
      ['/api/pops/FR%0AA/timeseries', 'bad_request'],
      ['/api/pops/FR%1BA', 'bad_request'],
      ['/api/pops/FRA/timeseries?step=1000000000000d', 'invalid_step'],
      ['/api/pops/FRA/timeseries?step=367d', 'invalid_step'],
      ['/api/pops/FRA/timeseries?to=8640000000000001', 'invalid_time'],
      ['/api/pops/FRA/timeseries?to=99999999999999999999999', 'invalid_time'],
      ['/api/pops/FRA/timeseries?from=2300-01-01T00:00:00Z&to=2300-01-02T00:00:00Z', 'invalid_time'],
      ['/api/pops/FRA/timeseries?from=-5', 'invalid_time'],
      // Dates that do not exist were rolled over (to 2 March, to the next day) and answered for another range.
      ['/api/pops/FRA/timeseries?from=2026-02-30T00:00:00Z', 'invalid_time'],
      ['/api/pops/FRA/timeseries?from=2026-11-31T00:00:00%2B01:00', 'invalid_time'],
      ['/api/pops/FRA/timeseries?to=2026-12-01T24:00:00Z', 'invalid_time'],
      [`/api/pops/FRA/timeseries?to=${'9'.repeat(200)}`, 'bad_request'],
      ['/api/dashboard/overview?window=600000000000000000000000s', 'invalid_window'],
      [`/api/heatmap?function=${'f'.repeat(129)}`, 'bad_request'],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [path, code] of cases) {
        const r = await getJson(`${url}${path}`);
        assert.equal(r.status, 400, path);
        assert.equal(r.body.code, code, path);
        assert.doesNotMatch(r.body.message, /[\u0000-\u001f]/, 'the message echoes no control character');
      }
    }
    const breakers = app.services.store.breakers();
    assert.equal(breakers.reads.state, 'closed');
    assert.equal(breakers.reads.consecutiveFailures, 0);
    const w = await write(url, line({ pop: 'FRA', ms: 120, t: Date.now() }));
    assert.equal(w.status, 204);
  });

  it('snaps windows to a canonical set, so distinct windows share a few cache entries', async (t) => {
    const { url, app } = await startTestApp(t);
    await write(url, line({ pop: 'FRA', ms: 120, t: Date.now() - 1000 }));
    const a = await getJson(`${url}/api/dashboard/overview?window=601s`);
    assert.equal(a.status, 200);
    assert.equal(a.body.window, '10m');
    assert.equal(a.body.samples, 1);
    const h = await fetch(`${url}/api/heatmap?window=602s`);
    assert.equal(h.headers.get('x-window'), '10m');
    assert.equal((await getJson(`${url}/api/dashboard/overview?window=300s`)).body.window, '5m');
    assert.equal((await getJson(`${url}/api/dashboard/overview?window=7d`)).body.window, '7d');
    const cache = app.services.cache as MemoryCache;
    const before = cache.size();
    for (let s = 603; s < 903; s++) assert.equal((await fetch(`${url}/api/heatmap?window=${s}s`)).status, 200);
    // 603 s … 902 s land on 10m or 15m: at most two new entries, not three hundred.
    assert.ok(cache.size() - before <= 2, `${cache.size() - before} new cache entries`);
  });

  it('keeps the answers of POP "FRA:Y" / function "ssr" and POP "FRA" / function "Y:ssr" apart', async (t) => {
    const { url } = await startTestApp(t);
    const now = Date.now();
    const body = [
      line({ pop: 'FRA', fn: 'Y:ssr', ms: 100, t: now - 2000 }),
      `cold_start_metrics,pop_code=FRA:Y,function_name=ssr cold_start_time_ms=900,latitude=50,longitude=8 ${now - 2000}`,
    ].join('\n');
    assert.equal((await write(url, body)).status, 204);
    const range = `from=${now - 60_000}&to=${now}&step=1m`;
    const fra = await getJson(`${url}/api/pops/FRA/timeseries?function=${encodeURIComponent('Y:ssr')}&${range}`);
    const fray = await getJson(`${url}/api/pops/${encodeURIComponent('FRA:Y')}/timeseries?function=ssr&${range}`);
    assert.equal(fra.status, 200);
    assert.equal(fray.status, 200);
    const mean = (b: any) => b.points.find((p: any) => p.samples > 0)?.mean;
    assert.equal(mean(fra.body), 100);
    assert.equal(mean(fray.body), 900);
    assert.equal(fray.body.popCode, 'FRA:Y');
  });

  it('answers a cached array with the body serialised when it was computed, the same as the schema would', async (t) => {
    const { url } = await startTestApp(t);
    await write(url, line({ pop: 'FRA', ms: 120.25, t: Date.now() - 1000 }));
    const miss = await fetch(`${url}/api/heatmap?window=5m`);
    const hit = await fetch(`${url}/api/heatmap?window=5m`);
    for (const r of [miss, hit]) assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    const [a, b] = [await miss.text(), await hit.text()];
    assert.equal(a, b);
    const fra = (JSON.parse(a) as any[]).find((e) => e.popCode === 'FRA');
    assert.deepEqual(Object.keys(fra).sort(), ['city', 'coldStartTime', 'country', 'lat', 'lon', 'p95', 'popCode', 'samples', 'status', 'tier']);
    assert.equal(fra.coldStartTime, 120.25);
  });
});
