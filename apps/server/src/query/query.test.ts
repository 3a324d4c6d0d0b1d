import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { POPS } from '@edgeworker/pops';
import { getJson, line, startTestApp, write } from '../testing/start-app.ts';
import { waitFor } from '../testing/wait.ts';

describe('query API over HTTP', () => {
  it('computes overview and heatmap statuses from the thresholds (STATUS_WARN_MS/CRIT_MS for a function without its own pair)', async (t) => {
    const { url } = await startTestApp(t, { STATUS_WARN_MS: '200', STATUS_CRIT_MS: '400' });
    const now = Date.now();
    // A function only seen in data: the default pair applies.
    const fn = 'edge-fn';
    const lines = [
      ...[90, 110].map((ms, i) => line({ pop: 'FRA', fn, ms, t: now - i * 1000 })),
      ...[250, 350].map((ms, i) => line({ pop: 'AMS', fn, ms, t: now - i * 1000 })),
      ...[500, 700].map((ms, i) => line({ pop: 'LHR', fn, ms, t: now - i * 1000 })),
      // Outside a 5 minute window: must not count.
      line({ pop: 'CDG', fn, ms: 50, t: now - 10 * 60_000 }),
    ];
    assert.equal((await write(url, lines.join('\n'))).status, 204);

    const { status, body: o } = await getJson(`${url}/api/dashboard/overview?window=5m`);
    assert.equal(status, 200);
    assert.equal(o.totalPops, POPS.length);
    assert.equal(o.healthyPops, 1);
    assert.equal(o.warningPops, 1);
    assert.equal(o.criticalPops, 1);
    assert.equal(o.noDataPops, POPS.length - 3);
    assert.equal(o.samples, 6);
    assert.equal(o.averageColdStart, (90 + 110 + 250 + 350 + 500 + 700) / 6);
    assert.equal(o.p50, 300);
    assert.equal(o.regressions, 0);
    assert.equal(o.window, '5m');
    assert.equal(o.thresholds.warnMs, 200);
    assert.equal(o.thresholds.critMs, 400);
    assert.deepEqual(o.thresholds.functions['ssr-render'], { warnMs: 400, critMs: 800 }, 'the catalog default');
    assert.ok(Math.abs(Date.parse(o.latestSampleAt) - now) < 1000);

    const heat = (await getJson<any[]>(`${url}/api/heatmap?window=5m`)).body;
    assert.equal(heat.length, POPS.length);
    const byCode = new Map(heat.map((e) => [e.popCode, e]));
    assert.deepEqual(
      ['FRA', 'AMS', 'LHR', 'CDG'].map((c) => [c, byCode.get(c).status, byCode.get(c).samples, byCode.get(c).coldStartTime]),
      [['FRA', 'healthy', 2, 100], ['AMS', 'warning', 2, 300], ['LHR', 'critical', 2, 600], ['CDG', 'no_data', 0, null]],
    );
    assert.equal(byCode.get('FRA').city, 'Frankfurt');
    assert.equal(typeof byCode.get('FRA').lat, 'number');

    const wide = (await getJson(`${url}/api/dashboard/overview?window=1h`)).body;
    assert.equal(wide.samples, 7);
  });

  it('answers long windows from rollups and says which resolution answered', async (t) => {
    const { url } = await startTestApp(t);
    const now = Date.now();
    // Three hours of one sample a minute for FRA, and one sample now: the rollup step (1 s after the write) rolls up the closed minutes.
    const lines = Array.from({ length: 180 }, (_, i) => line({ pop: 'FRA', ms: 100 + (i % 10), t: now - (i + 1) * 60_000 }));
    lines.push(line({ pop: 'AMS', ms: 50, t: now }));
    assert.equal((await write(url, lines.join('\n'))).status, 204);

    const short = await fetch(`${url}/api/heatmap?window=5m`);
    assert.equal(short.headers.get('x-resolution'), 'raw');
    assert.equal((await getJson(`${url}/api/dashboard/overview?window=5m`)).body.resolution, 'raw');
    const o = await waitFor(async () => {
      const b = (await getJson(`${url}/api/dashboard/overview?window=24h`)).body;
      return b.resolution === '1h' ? b : null;
    }, 15_000, 'the 24 h overview answered from rollups');
    assert.equal(o.samples, 181, 'rollups and raw edges together count every sample once');
    const heat = await fetch(`${url}/api/heatmap?window=24h`);
    assert.equal(heat.headers.get('x-resolution'), '1h');
    const fra = ((await heat.json()) as any[]).find((e) => e.popCode === 'FRA');
    assert.equal(fra.samples, 180);
    assert.ok(Math.abs(fra.coldStartTime - 104.5) < 1e-9, `mean stays exact: ${fra.coldStartTime}`);
    const detail = (await getJson(`${url}/api/pops/FRA?window=24h`)).body;
    assert.equal(detail.resolution, '1h');
    assert.equal(detail.functions[0].samples, 180);
    const ts = (await getJson(`${url}/api/pops/FRA/timeseries?from=${now - 24 * 3_600_000}&to=${now}&step=1h`)).body;
    assert.equal(ts.resolution, '1h');
    assert.equal(ts.points.reduce((n: number, p: { samples: number }) => n + p.samples, 0), 180);
    assert.equal((await getJson(`${url}/api/pops/FRA/timeseries?step=10s`)).body.resolution, 'raw');
  });

  it('filters by function everywhere', async (t) => {
    const { url } = await startTestApp(t);
    const now = Date.now();
    await write(url, [
      line({ pop: 'FRA', fn: 'auth-check', ms: 20, t: now }),
      line({ pop: 'FRA', fn: 'ssr-render', ms: 500, t: now }),
    ].join('\n'));
    const o = (await getJson(`${url}/api/dashboard/overview?function=auth-check`)).body;
    assert.equal(o.samples, 1);
    assert.equal(o.averageColdStart, 20);
    const heat = (await getJson<any[]>(`${url}/api/heatmap?function=ssr-render`)).body;
    assert.equal(heat.find((e) => e.popCode === 'FRA').coldStartTime, 500);
    assert.equal(heat.find((e) => e.popCode === 'FRA').status, 'warning', 'ssr-render alone: 500 is past its 400');
    assert.equal((await getJson<any[]>(`${url}/api/heatmap?function=auth-check`)).body.find((e) => e.popCode === 'FRA').status, 'healthy');
    const detail = (await getJson(`${url}/api/pops/fra`)).body;
    assert.equal(detail.pop.code, 'FRA');
    assert.equal(detail.samples, 2);
    assert.deepEqual(detail.functions.map((f: any) => [f.functionName, f.coldStartTime, f.status]), [
      ['auth-check', 20, 'healthy'],
      ['ssr-render', 500, 'warning'],
    ]);
    assert.equal(detail.status, 'warning', 'the worst of its functions');
  });

  it('status per function: each against its own pair (STATUS_THRESHOLDS over the catalog), a POP the worst of its functions, a silent POP no_data', async (t) => {
    const { url } = await startTestApp(t, { STATUS_THRESHOLDS: 'auth-check=30:60' });
    const now = Date.now();
    await write(url, [
      // FRA: ssr-render at 250 (healthy, its pair is 400:800) dominates the mean, but auth-check at 70 is past its 60.
      ...[0, 1, 2, 3].map((i) => line({ pop: 'FRA', fn: 'ssr-render', ms: 250, t: now - i * 1000 })),
      line({ pop: 'FRA', fn: 'auth-check', ms: 70, t: now }),
      // AMS: both well inside their pairs.
      line({ pop: 'AMS', fn: 'ssr-render', ms: 250, t: now }),
      line({ pop: 'AMS', fn: 'auth-check', ms: 20, t: now }),
      // LHR: reported 20 min ago and then stopped.
      line({ pop: 'LHR', fn: 'ssr-render', ms: 100, t: now - 20 * 60_000 }),
    ].join('\n'));
    const heat = new Map((await getJson<any[]>(`${url}/api/heatmap?window=1h`)).body.map((e) => [e.popCode, e]));
    assert.equal(heat.get('FRA').status, 'critical');
    assert.equal(heat.get('AMS').status, 'healthy');
    assert.equal(heat.get('LHR').status, 'no_data', 'samples in the window, none for NO_DATA_AFTER: not healthy');
    assert.equal(heat.get('LHR').samples, 1);
    const o = (await getJson(`${url}/api/dashboard/overview?window=1h`)).body;
    assert.deepEqual(o.thresholds.functions['auth-check'], { warnMs: 30, critMs: 60 });
    assert.deepEqual(o.thresholds.functions['image-resize'], { warnMs: 300, critMs: 600 });
    assert.equal(o.criticalPops, 1);
    assert.equal(o.healthyPops, 1);
    assert.equal((await getJson(`${url}/api/pops/LHR?window=1h`)).body.status, 'no_data');
    assert.equal((await getJson(`${url}/api/pops/FRA?window=1h`)).body.status, 'critical');
  });

  it('a POP whose samples come sparsely is not no_data for a silence it usually has; one that reported steadily and stopped is, and so is a sparse one silent far longer than it usually is', async (t) => {
    const { url } = await startTestApp(t);
    const now = Date.now();
    const lines: string[] = [];
    // Gaps of 60-180 s (2 min on average) from `newest` back to `oldest`.
    const sparse = (pop: string, newest: number, oldest: number) => {
      for (let t = newest, i = 0; t > oldest; t -= 60_000 + ((i++ * 37) % 121) * 1000) lines.push(line({ pop, ms: 100, t }));
    };
    // NRT: its newest sample 5 min ago, a silence it has every hour or so.
    sparse('NRT', now - 5 * 60_000, now - 60 * 60_000);
    // SYD: the same rate, then silent for 40 min (its usual silence: 14 mean gaps, ~28 min).
    sparse('SYD', now - 40 * 60_000, now - 100 * 60_000);
    // FRA: every 10 s, stopped 5 min ago; AMS: every 10 s up to now.
    for (let t = now - 5 * 60_000; t > now - 60 * 60_000; t -= 10_000) lines.push(line({ pop: 'FRA', ms: 100, t }));
    for (let t = now; t > now - 60 * 60_000; t -= 10_000) lines.push(line({ pop: 'AMS', ms: 100, t }));
    assert.equal((await write(url, lines.join('\n'))).status, 204);
    const heat = new Map((await getJson<any[]>(`${url}/api/heatmap?window=1h`)).body.map((e) => [e.popCode, e.status]));
    assert.deepEqual(['NRT', 'SYD', 'FRA', 'AMS'].map((p) => [p, heat.get(p)]), [['NRT', 'healthy'], ['SYD', 'no_data'], ['FRA', 'no_data'], ['AMS', 'healthy']]);
    assert.equal((await getJson(`${url}/api/pops/NRT?window=1h`)).body.status, 'healthy');
    assert.equal((await getJson(`${url}/api/pops/SYD?window=1h`)).body.status, 'no_data');
    assert.equal((await getJson(`${url}/api/pops/FRA?window=1h`)).body.status, 'no_data');
    const o = (await getJson(`${url}/api/dashboard/overview?window=1h`)).body;
    assert.equal(o.healthyPops, 2);
  });

  it('returns a gap-filled time series with percentiles per step', async (t) => {
    const { url } = await startTestApp(t);
    const step = 60_000;
    const base = Math.floor(Date.now() / step) * step - 10 * step;
    await write(url, [
      ...[10, 20, 30, 40].map((ms, i) => line({ pop: 'SIN', ms, t: base + i })),
      line({ pop: 'SIN', ms: 99, t: base + 3 * step + 5 }),
    ].join('\n'));
    const r = await getJson(`${url}/api/pops/SIN/timeseries?from=${new Date(base).toISOString()}&to=${base + 5 * step}&step=1m`);
    assert.equal(r.status, 200);
    assert.equal(r.body.stepMs, step);
    assert.deepEqual(r.body.points.map((p: any) => [p.t - base, p.samples, p.mean]), [
      [0, 4, 25], [step, 0, null], [2 * step, 0, null], [3 * step, 1, 99], [4 * step, 0, null],
    ]);
    assert.equal(r.body.points[0].p50, 25);
    assert.ok(Math.abs(r.body.points[0].p99 - 39.7) < 1e-9);
    const auto = await getJson(`${url}/api/pops/SIN/timeseries`);
    assert.equal(auto.status, 200);
    assert.ok(auto.body.points.length > 100 && auto.body.points.length <= 400, `auto step gave ${auto.body.points.length} points`);
  });

  it('refuses bad parameters with a clear 400 and unknown POPs with 404', async (t) => {
    const { url } = await startTestApp(t, { QUERY_MAX_POINTS: '100' });
    const cases: Array<[string, number, string]> = [
      ['/api/dashboard/overview?window=5x', 400, 'invalid_window'],
      ['/api/heatmap?window=1s', 400, 'invalid_window'],
      ['/api/pops/FRA/timeseries?from=0&to=86400000&step=1s', 400, 'too_many_points'],
      ['/api/pops/FRA/timeseries?from=yesterday', 400, 'invalid_time'],
      ['/api/pops/FRA/timeseries?from=2000&to=1000&step=1s', 400, 'invalid_range'],
      ['/api/pops/FRA/timeseries?step=0s', 400, 'invalid_step'],
      ['/api/pops/NOPE', 404, 'pop_not_found'],
      ['/api/nothing-here', 404, 'not_found'],
    ];
    for (const [path, status, code] of cases) {
      const r = await getJson(`${url}${path}`);
      assert.equal(r.status, status, path);
      assert.equal(r.body.code, code, path);
      assert.equal(typeof r.body.message, 'string');
      assert.equal(typeof r.body.requestId, 'string');
    }
  });

  it('lists functions from the catalog plus those seen in the data', async (t) => {
    const { url } = await startTestApp(t);
    await write(url, line({ pop: 'FRA', fn: 'brand-new-fn', ms: 5, t: Date.now() }));
    const names = (await getJson<any[]>(`${url}/api/functions`)).body.map((f) => f.name);
    assert.deepEqual(names, ['auth-check', 'geo-router', 'api-gateway', 'image-resize', 'ssr-render', 'brand-new-fn']);
  });

  it('publishes an OpenAPI document generated from the route schemas', async (t) => {
    const { url } = await startTestApp(t);
    const doc = (await getJson(`${url}/api/openapi.json`)).body;
    for (const path of ['/write', '/api/v2/write', '/api/dashboard/overview', '/api/heatmap', '/api/pops/{code}/timeseries', '/health']) {
      assert.ok(doc.paths[path], `${path} missing from OpenAPI`);
    }
  });
});
