/**
 * No-data alerts in the real app: samples written through /write, passes run through
 * POST /api/detector/run on a pinned clock, alerts read through /api/alerts and received
 * by a real webhook endpoint; plus the pure scope rules of evaluateNoData.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert } from '@edgeworker/schema';
import { getJson, line, startTestApp, write } from '../testing/start-app.ts';
import { startHttpReceiver } from '../notify/test-receivers.ts';
import { evaluateNoData, type SeenSeries } from './no-data.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const FNS = ['ssr-render', 'auth-check'];

async function start(t: import('node:test').TestContext, env: Record<string, string> = {}) {
  const clock = { now: T0 };
  const webhook = await startHttpReceiver(t);
  const { url, config } = await startTestApp(
    t,
    { DETECTOR_SCHEDULE: '0 0 1 1 *', DETECTOR_EARLY: 'off', ALERT_WEBHOOK_URL: webhook.url, ...env },
    { now: () => clock.now },
  );
  let written = T0 - 20 * MIN;
  /** Writes one sample per 10 s for each (POP, function) of `pops` (and `fns`) up to `untilMs`, then moves the clock there. */
  async function writeUntil(untilMs: number, pops: string[], fns: readonly string[] = FNS) {
    const lines: string[] = [];
    for (let ts = written; ts < untilMs; ts += 10_000) {
      for (const pop of pops) for (const fn of fns) lines.push(line({ pop, fn, ms: (fn === 'auth-check' ? 30 : 100) + ((ts / 10_000) % 7), t: ts }));
    }
    written = untilMs;
    if (lines.length) assert.equal((await write(url, lines.join('\n'))).status, 204);
    clock.now = untilMs;
  }
  async function run() {
    const res = await fetch(`${url}/api/detector/run`, { method: 'POST', headers: config.apiToken ? { authorization: `Bearer ${config.apiToken}` } : {} });
    assert.equal(res.status, 200);
    return (await res.json()) as { created: Alert[]; resolved: Alert[] };
  }
  return { url, webhook, writeUntil, run, clock };
}

test('a POP that goes silent gets one no_data alert (functionName *), is no_data on the map, and the alert resolves and is notified when data returns', async (t) => {
  const { url, webhook, writeUntil, run } = await start(t);
  await writeUntil(T0, ['FRA', 'AMS', 'LHR']);
  assert.deepEqual((await run()).created, [], 'steady data: nothing to say');

  // FRA stops; AMS and LHR keep reporting. Two minutes is not yet "a while" (default 3 min).
  await writeUntil(T0 + 2 * MIN, ['AMS', 'LHR']);
  assert.deepEqual((await run()).created, []);
  await writeUntil(T0 + 4 * MIN, ['AMS', 'LHR']);
  const opened = (await run()).created;
  assert.equal(opened.length, 1, `one alert for the whole POP, got ${JSON.stringify(opened.map((a) => [a.popCode, a.functionName]))}`);
  const alert = opened[0]!;
  assert.equal(alert.type, 'no_data');
  assert.equal(alert.popCode, 'FRA');
  assert.equal(alert.functionName, '*');
  assert.equal(alert.silentSeries, 2);
  assert.equal(alert.lastSeenAt, new Date(T0).toISOString());

  // A silent POP is not healthy on the map, while the others are.
  const heat = await getJson<{ popCode: string; status: string }[]>(`${url}/api/heatmap?window=5m`);
  assert.equal(heat.body.find((p) => p.popCode === 'FRA')?.status, 'no_data');
  assert.equal(heat.body.find((p) => p.popCode === 'AMS')?.status, 'healthy');

  // Still silent: the same alert, no second one, and never a regression for the silence.
  await writeUntil(T0 + 6 * MIN, ['AMS', 'LHR']);
  assert.deepEqual((await run()).created, []);
  const list = await getJson<{ alerts: Alert[]; total: number }>(`${url}/api/alerts`);
  assert.deepEqual(list.body.alerts.map((a) => `${a.type}:${a.popCode}:${a.functionName}:${a.status}`), ['no_data:FRA:*:open']);
  assert.equal((await getJson<{ total: number }>(`${url}/api/alerts?type=regression`)).body.total, 0);
  assert.equal((await getJson<{ total: number }>(`${url}/api/alerts?type=no_data`)).body.total, 1);
  // The overview's `regressions` counts regressions only.
  const overview = await getJson<{ regressions: number }>(`${url}/api/dashboard/overview`);
  assert.equal(overview.body.regressions, 0);

  // FRA reports again: resolved by the detector, and notified on open and on resolve.
  await writeUntil(T0 + 6 * MIN + 30_000, ['FRA', 'AMS', 'LHR']);
  const back = await run();
  assert.deepEqual(back.resolved.map((a) => [a.id, a.resolvedBy]), [[alert.id, 'detector']]);
  assert.deepEqual(back.created, []);
  const hooks = await webhook.waitFor(2);
  assert.deepEqual(hooks.map((h) => (JSON.parse(h.body) as { event: string; alert: Alert }).event), ['opened', 'resolved']);
  assert.equal((JSON.parse(hooks[0]!.body) as { alert: Alert }).alert.type, 'no_data');
});

test('when all ingest stops there is one pipeline alert (popCode *), not one per POP; it resolves when any data arrives', async (t) => {
  const { writeUntil, run } = await start(t);
  await writeUntil(T0, ['FRA', 'AMS', 'LHR']);
  await run();
  await writeUntil(T0 + 4 * MIN, []);
  const opened = (await run()).created;
  assert.deepEqual(opened.map((a) => `${a.type}:${a.popCode}:${a.functionName}:${a.severity}`), ['no_data:*:*:critical']);
  assert.equal(opened[0]!.silentSeries, 6);
  await writeUntil(T0 + 5 * MIN, []);
  assert.deepEqual((await run()).created, [], 'still one alert while the silence lasts');
  await writeUntil(T0 + 5 * MIN + 30_000, ['AMS']);
  const back = await run();
  assert.deepEqual(back.resolved.map((a) => a.id), [opened[0]!.id]);
  // FRA and LHR are still silent now that AMS reports: they get their own alerts.
  assert.deepEqual(back.created.map((a) => `${a.popCode}:${a.functionName}`).sort(), ['FRA:*', 'LHR:*']);
});

test('a function that stops at every POP gets one alert (popCode *), notified once, not one per POP; it resolves when it reports again', async (t) => {
  const { url, webhook, writeUntil, run } = await start(t);
  await writeUntil(T0, ['FRA', 'AMS', 'LHR']);
  assert.deepEqual((await run()).created, []);
  // auth-check stops everywhere (a deploy that broke it); ssr-render keeps reporting at every POP.
  await writeUntil(T0 + 4 * MIN, ['FRA', 'AMS', 'LHR'], ['ssr-render']);
  const opened = (await run()).created;
  assert.deepEqual(opened.map((a) => `${a.type}:${a.popCode}:${a.functionName}:${a.severity}`), ['no_data:*:auth-check:critical']);
  assert.equal(opened[0]!.silentSeries, 3);
  await writeUntil(T0 + 5 * MIN, ['FRA', 'AMS', 'LHR'], ['ssr-render']);
  assert.deepEqual((await run()).created, [], 'still one alert while the silence lasts');
  assert.equal((await getJson<{ total: number }>(`${url}/api/alerts?type=no_data`)).body.total, 1);
  // It reports again at one POP: the function's alert resolves; the two POPs still without it get their own.
  await writeUntil(T0 + 5 * MIN + 30_000, ['FRA', 'AMS', 'LHR'], ['ssr-render']);
  await writeUntil(T0 + 6 * MIN, ['FRA'], ['auth-check']);
  const back = await run();
  assert.deepEqual(back.resolved.map((a) => a.id), [opened[0]!.id]);
  assert.deepEqual(back.created.map((a) => `${a.popCode}:${a.functionName}`).sort(), ['AMS:auth-check', 'LHR:auth-check']);
  // One notification for the function's silence and one for its return (then the two POPs'), not one per POP.
  const hooks = await webhook.waitFor(4);
  const events = hooks.map((h) => { const b = JSON.parse(h.body) as { event: string; alert: Alert }; return `${b.event}:${b.alert.popCode}:${b.alert.functionName}`; });
  assert.equal(events[0], 'opened:*:auth-check');
  assert.deepEqual(events.sort(), ['opened:*:auth-check', 'opened:AMS:auth-check', 'opened:LHR:auth-check', 'resolved:*:auth-check']);
});

test('NO_DATA_AFTER sets how long is "a while"', async (t) => {
  const { writeUntil, run } = await start(t, { NO_DATA_AFTER: '1m' });
  await writeUntil(T0, ['FRA', 'AMS']);
  await run();
  await writeUntil(T0 + 90_000, ['AMS']);
  assert.deepEqual((await run()).created.map((a) => `${a.popCode}:${a.functionName}`), ['FRA:*']);
});

const seen = (popCode: string, functionName: string, lastMs: number, o: Partial<SeenSeries> = {}): SeenSeries =>
  ({ popCode, functionName, lastMs, cadenceMs: 10_000, buckets: 100, firstMs: lastMs - 60 * MIN, ...o });
const S = { afterMs: 3 * MIN, stepMs: 10_000, minBuckets: 6 };

test('scopes: one silent function of a POP is a series alert; a series that never reported steadily is not', () => {
  const end = T0;
  const ev = evaluateNoData([
    seen('FRA', 'ssr-render', end - 5 * MIN),
    seen('FRA', 'auth-check', end - 10_000),
    seen('AMS', 'ssr-render', end - 10_000),
    // Reports every 10 min: silent for 5 min is normal for it.
    seen('AMS', 'geo-router', end - 5 * MIN, { cadenceMs: 10 * MIN }),
    // Two samples ever: not steady.
    seen('LHR', 'ssr-render', end - 5 * MIN, { buckets: 2 }),
    // Twelve buckets over its first 2 minutes, then silence: too short a record to know what is ordinary for it.
    seen('LHR', 'auth-check', end - 5 * MIN, { buckets: 12, firstMs: end - 7 * MIN }),
  ], [], end, S);
  assert.deepEqual(ev.raise.map((f) => `${f.popCode}:${f.functionName}:${f.severity}`), ['FRA:ssr-render:warning']);
  assert.deepEqual(ev.resolve, []);
});

test('scopes: an open alert is not raised again, and resolves only once data newer than its last sample arrives', () => {
  const end = T0;
  const open: Alert = {
    id: 'a1', type: 'no_data', popCode: 'FRA', functionName: '*', severity: 'critical', status: 'open', baselineMs: 0, currentMs: 0, changePct: 0,
    createdAt: new Date(end - MIN).toISOString(), updatedAt: new Date(end - MIN).toISOString(), notifications: [], lastSeenAt: new Date(end - 4 * MIN).toISOString(),
  };
  const silentFra = [seen('FRA', 'ssr-render', end - 4 * MIN - 10_000), seen('AMS', 'ssr-render', end - 10_000)];
  assert.deepEqual(evaluateNoData(silentFra, [open], end, S), { raise: [], resolve: [] });
  // The engine forgot FRA (silent longer than its history): the alert stays open.
  assert.deepEqual(evaluateNoData([seen('AMS', 'ssr-render', end - 10_000)], [open], end, S), { raise: [], resolve: [] });
  const back = [seen('FRA', 'ssr-render', end - 10_000), seen('AMS', 'ssr-render', end - 10_000)];
  assert.deepEqual(evaluateNoData(back, [open], end, S).resolve, ['a1']);
});

test('scopes: a series is silent only past its usual silence, and a POP or the pipeline past what its series make ordinary together', () => {
  const end = T0;
  // Each of these series' own gaps make 10 min of silence ordinary (samples at random, ~40 s apart on average).
  const usual = (x: SeenSeries) => (x.popCode === 'FRA' ? 10 * MIN : 0);
  const fra = (fn: string, lastMs: number) => seen('FRA', fn, lastMs, { cadenceMs: 30_000 });
  // FRA's ssr-render silent 6 min: ordinary for it, no alert (afterMs alone would have raised one).
  const six = [fra('ssr-render', end - 6 * MIN), fra('auth-check', end - 20_000), seen('AMS', 'ssr-render', end - 10_000)];
  assert.deepEqual(evaluateNoData(six, [], end, S, usual).raise, []);
  assert.deepEqual(evaluateNoData(six, [], end, S).raise.map((f) => f.functionName), ['ssr-render'], 'without the usual silence: raised');
  // 11 min: past it.
  const eleven = [fra('ssr-render', end - 11 * MIN), fra('auth-check', end - 20_000), seen('AMS', 'ssr-render', end - 10_000)];
  assert.deepEqual(evaluateNoData(eleven, [], end, S, usual).raise.map((f) => `${f.popCode}:${f.functionName}`), ['FRA:ssr-render']);
  // Four such series of a POP all silent: together 1 / (4 / 10 min) = 2.5 min is ordinary, so after afterMs (3 min) the POP is silent, ...
  const fourFns = ['ssr-render', 'auth-check', 'api-gateway', 'image-resize'];
  const popAt = (silentMs: number) => [...fourFns.map((fn) => fra(fn, end - silentMs - 10_000)), seen('AMS', 'ssr-render', end - 10_000)];
  assert.deepEqual(evaluateNoData(popAt(3 * MIN), [], end, S, usual).raise.map((f) => `${f.popCode}:${f.functionName}:${f.silentSeries}`), ['FRA:*:4']);
  // ... while two of them are 5 min ordinary together: not yet at 4 min, at 6.
  const twoAt = (silentMs: number) => [fra('ssr-render', end - silentMs - 10_000), fra('auth-check', end - silentMs - 10_000), seen('AMS', 'ssr-render', end - 10_000)];
  assert.deepEqual(evaluateNoData(twoAt(4 * MIN), [], end, S, usual).raise, []);
  assert.deepEqual(evaluateNoData(twoAt(6 * MIN), [], end, S, usual).raise.map((f) => `${f.popCode}:${f.functionName}`), ['FRA:*']);
  // The pipeline: FRA's two alone, all silent 4 min: nothing; AMS reporting every 10 s too and all silent 3 min: the pipeline.
  const alone = [fra('ssr-render', end - 4 * MIN - 10_000), fra('auth-check', end - 4 * MIN - 10_000)];
  assert.deepEqual(evaluateNoData(alone, [], end, S, usual).raise, []);
  const all = [...alone, seen('AMS', 'ssr-render', end - 4 * MIN - 10_000)];
  assert.deepEqual(evaluateNoData(all, [], end, S, usual).raise.map((f) => `${f.popCode}:${f.functionName}`), ['*:*']);
});

test('scopes: a function silent at every POP that runs it is one alert (popCode *), covering its series and a POP that runs only it', () => {
  const end = T0;
  const names = (xs: SeenSeries[]) => evaluateNoData(xs, [], end, S).raise.map((f) => `${f.popCode}:${f.functionName}:${f.severity}:${f.silentSeries ?? '-'}`);
  const reporting = ['FRA', 'AMS', 'LHR'].map((pop) => seen(pop, 'ssr-render', end - 10_000));
  const geo = (pop: string, lastMs = end - 4 * MIN) => seen(pop, 'geo-router', lastMs);
  // geo-router silent 4 min at FRA, AMS and LHR, and at CDG, which runs nothing else.
  assert.deepEqual(names([...reporting, geo('FRA'), geo('AMS'), geo('LHR'), geo('CDG')]), ['*:geo-router:critical:4']);
  // Still reporting at one POP: each silent one is its own alert.
  assert.deepEqual(names([...reporting, geo('FRA'), geo('AMS'), geo('LHR', end - 10_000)]), ['FRA:geo-router:warning:-', 'AMS:geo-router:warning:-']);
  // A function at one POP only is that series: no function scope.
  assert.deepEqual(names([...reporting, geo('FRA')]), ['FRA:geo-router:warning:-']);
  // A POP silent as a whole that also runs a function still reporting elsewhere keeps its own alert.
  assert.deepEqual(names([...reporting.slice(1), seen('FRA', 'ssr-render', end - 4 * MIN), geo('FRA'), geo('AMS')]), ['*:geo-router:critical:2', 'FRA:*:critical:2']);
  // It stopped everywhere 2.5 min ago, but FRA's last sample came 4 min ago (a gap of its own just
  // before): FRA's series waits for the function's decision instead of being paged first, ...
  assert.deepEqual(names([...reporting, geo('FRA'), geo('AMS', end - 150_000), geo('LHR', end - 150_000)]), []);
  // ... which comes once the function as a whole is past afterMs: one alert, FRA's included.
  assert.deepEqual(names([...reporting, geo('FRA', end - 5 * MIN), geo('AMS', end - 3 * MIN - 10_000), geo('LHR', end - 3 * MIN - 10_000)]), ['*:geo-router:critical:3']);
  // Everything silent is the pipeline, not a function.
  assert.deepEqual(names([geo('FRA'), geo('AMS'), seen('LHR', 'ssr-render', end - 4 * MIN)]), ['*:*:critical:3']);
  // The function's alert resolves when any of its series reports again.
  const open: Alert = {
    id: 'g', type: 'no_data', popCode: '*', functionName: 'geo-router', severity: 'critical', status: 'open', baselineMs: 0, currentMs: 0, changePct: 0,
    createdAt: new Date(end - MIN).toISOString(), updatedAt: new Date(end - MIN).toISOString(), notifications: [], lastSeenAt: new Date(end - 4 * MIN + 10_000).toISOString(),
  };
  assert.deepEqual(evaluateNoData([...reporting, geo('FRA'), geo('AMS', end - 10_000)], [open], end, S).resolve, ['g']);
  // While it is open, the one series of it the engine still remembers is covered, not paged alone.
  assert.deepEqual(evaluateNoData([...reporting, geo('FRA', end - 3 * 60 * MIN)], [open], end, S), { raise: [], resolve: [] });
});

test('scopes: a POP is pooled over the series that still reported when it last did, not over those that had stopped before', () => {
  const end = T0;
  // FRA's four functions each make 10 min of silence ordinary (samples at random). Three stopped
  // 30 min ago; the fourth still reports and is now 4 min into one of its ordinary gaps.
  const usual = (x: SeenSeries) => (x.popCode === 'FRA' ? 10 * MIN : 0);
  const fra = (fn: string, lastMs: number) => seen('FRA', fn, lastMs, { cadenceMs: 30_000 });
  const stopped = ['auth-check', 'api-gateway', 'image-resize'].map((fn) => fra(fn, end - 30 * MIN));
  const at = (silentMs: number) => [...stopped, fra('ssr-render', end - silentMs - 10_000), seen('AMS', 'ssr-render', end - 10_000)];
  const names = (xs: SeenSeries[], open: Alert[] = []) => evaluateNoData(xs, open, end, S, usual).raise.map((f) => `${f.popCode}:${f.functionName}`);
  // The three stopped ones have alerts of their own; FRA as a whole is not silent: its one
  // reporting series' gap is ordinary for it. Pooled over all four (1 / (4 / 10 min) = 2.5 min),
  // FRA:* opened here, and at every such gap of the one left.
  assert.deepEqual(names(at(4 * MIN)), ['FRA:auth-check', 'FRA:api-gateway', 'FRA:image-resize']);
  const openFor = (fn: string): Alert => ({
    id: fn, type: 'no_data', popCode: 'FRA', functionName: fn, severity: 'warning', status: 'open', baselineMs: 0, currentMs: 0, changePct: 0,
    createdAt: new Date(end - 20 * MIN).toISOString(), updatedAt: new Date(end - 20 * MIN).toISOString(), notifications: [], lastSeenAt: new Date(end - 30 * MIN + 10_000).toISOString(),
  });
  const open = stopped.map((x) => openFor(x.functionName));
  assert.deepEqual(names(at(4 * MIN), open), []);
  // Past what is ordinary for the one left, the POP is silent as a whole: one alert for it.
  assert.deepEqual(names(at(11 * MIN), open), ['FRA:*']);
  // All four stopping together are still pooled: FRA:* after afterMs, as before.
  const together = [...stopped.map((x) => fra(x.functionName, end - 3 * MIN - 10_000)), fra('ssr-render', end - 3 * MIN - 10_000), seen('AMS', 'ssr-render', end - 10_000)];
  assert.deepEqual(names(together), ['FRA:*']);
});

test('series whose samples come at random (cold starts are events) are not paged for the gaps that are ordinary for them, and are when they stop', async (t) => {
  const { url, run, clock } = await start(t);
  let seed = 5;
  const rnd = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  // FRA's two functions every 10 s; AMS's two and LHR's one at random, a minute apart on average.
  const sparse = [['AMS', 'ssr-render'], ['AMS', 'auth-check'], ['LHR', 'ssr-render']] as const;
  const next = sparse.map(() => T0 - 60 * MIN + rnd() * MIN);
  const lhrStops = T0 + 60 * MIN;
  let longestGap = 0;
  const last = sparse.map(() => -Infinity);
  let written = T0 - 60 * MIN;
  const writeUntil = async (untilMs: number) => {
    const lines: string[] = [];
    for (let ts = written; ts < untilMs; ts += 10_000) for (const fn of FNS) lines.push(line({ pop: 'FRA', fn, ms: 100, t: ts }));
    sparse.forEach(([pop, fn], i) => {
      for (; next[i]! < untilMs; next[i]! -= 60_000 * Math.log(rnd())) {
        const ts = Math.round(next[i]!);
        if (pop === 'LHR' && ts >= lhrStops) continue;
        if (ts >= T0) longestGap = Math.max(longestGap, ts - last[i]!);
        last[i] = ts;
        lines.push(line({ pop, fn, ms: 120, t: ts }));
      }
    });
    written = untilMs;
    assert.equal((await write(url, lines.join('\n'))).status, 204);
    clock.now = untilMs;
  };
  await writeUntil(T0);
  const opened: Alert[] = [];
  for (let end = T0; end <= T0 + 85 * MIN; end += 10_000) {
    await writeUntil(end);
    opened.push(...(await run()).created);
    if (end === lhrStops) {
      assert.deepEqual(opened.map((a) => `${a.popCode}:${a.functionName}`), [], 'an hour of gaps ordinary for them: no no_data alert');
      // The same hour held a silence that afterMs (3 min) alone would have paged for.
      assert.ok(longestGap > 4 * MIN, `the longest gap of that hour: ${longestGap / 1000} s`);
    }
  }
  // LHR stopped: its alert (its only series, so the POP's) opened once its silence was no longer ordinary for it.
  assert.deepEqual(opened.map((a) => `${a.popCode}:${a.functionName}`), ['LHR:*']);
  const lhrLast = last[2]!;
  const silentFor = Date.parse(opened[0]!.createdAt) - lhrLast;
  assert.ok(silentFor > 5 * MIN && silentFor < 25 * MIN, `opened after ${silentFor / 1000} s of silence`);
});

test('an agent whose clock is 5 minutes behind holds back no_data alerts of its own POP only: another POP that stops is alerted', async (t) => {
  const { url, writeUntil, run, clock } = await start(t);
  // CDG's samples land as they are taken, stamped by a clock 5 minutes behind: data of the past, every batch.
  const skewed = async (fromMs: number, toMs: number) => {
    const lines: string[] = [];
    for (let ts = fromMs; ts < toMs; ts += 10_000) lines.push(line({ pop: 'CDG', fn: 'ssr-render', ms: 100, t: ts - 5 * MIN }));
    const res = await write(url, lines.join('\n'));
    assert.equal(res.status, 204, JSON.stringify(res.json));
  };
  await writeUntil(T0, ['FRA', 'AMS', 'LHR']);
  await skewed(T0 - 20 * MIN, T0);
  await run();
  const opened: Alert[] = [];
  for (let end = T0 + 10_000; end <= T0 + 5 * MIN; end += 10_000) {
    await writeUntil(end, end <= T0 + MIN ? ['FRA', 'AMS', 'LHR'] : ['AMS', 'LHR']);
    await skewed(end - 10_000, end);
    clock.now = end;
    opened.push(...(await run()).created);
  }
  // FRA stopped at T0 + 1 min: its alert, 3 minutes on, though CDG's past data kept landing all along.
  assert.deepEqual(opened.map((a) => `${a.type}:${a.popCode}:${a.functionName}`), ['no_data:FRA:*']);
  assert.ok(Date.parse(opened[0]!.createdAt) - (T0 + MIN) <= 3 * MIN + 20_000, `opened at +${(Date.parse(opened[0]!.createdAt) - T0) / 1000} s`);
});
