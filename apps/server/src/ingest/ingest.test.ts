import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { LANDED_POPS_MAX } from '../events.ts';
import { getJson, line, startTestApp, write } from '../testing/start-app.ts';

const samplesOf = async (url: string, pop: string) => {
  const { body } = await getJson<Array<{ popCode: string; samples: number; coldStartTime: number | null }>>(`${url}/api/heatmap?window=1h`);
  return body.find((e) => e.popCode === pop);
};

describe('ingest over HTTP', () => {
  it('stores a line for a new POP, which then appears in the heatmap', async (t) => {
    const { url } = await startTestApp(t);
    const now = Date.now();
    const r = await write(url, line({ pop: 'XQZ', ms: 123.5, t: now, lat: 10.5, lon: -20.25, city: 'New Town' }) + '\n');
    assert.equal(r.status, 204);
    const e = await samplesOf(url, 'XQZ');
    assert.ok(e, 'new POP missing from heatmap');
    assert.equal(e.samples, 1);
    assert.equal(e.coldStartTime, 123.5);
    const pops = await getJson<Array<{ code: string; source: string; city: string }>>(`${url}/api/pops`);
    assert.deepEqual(pops.body.find((p) => p.code === 'XQZ'), { code: 'XQZ', city: 'New Town', country: '', tier: 'unknown', lat: 10.5, lon: -20.25, source: 'data' });
  });

  it('fills metadata of catalog POPs and honours precision on both APIs', async (t) => {
    const { url } = await startTestApp(t);
    const nowS = Math.floor(Date.now() / 1000);
    assert.equal((await write(url, `cold_start_metrics,pop_code=FRA,function_name=auth-check cold_start_time_ms=20i ${nowS}`, { precision: 's' })).status, 204);
    assert.equal((await write(url, `cold_start_metrics,pop_code=FRA,function_name=auth-check cold_start_time_ms=40 ${BigInt(nowS) * 1_000_000_000n}`, { precision: 'ns', path: '/api/v2/write' })).status, 204);
    // The same instant in ns: the same point, so the second write replaces the first (last write wins).
    assert.equal((await write(url, `cold_start_metrics,pop_code=FRA,function_name=auth-check cold_start_time_ms=60 ${nowS * 1000 + 1}`, { precision: 'ms' })).status, 204);
    const fra = await getJson(`${url}/api/pops/FRA?window=1h`);
    assert.equal(fra.body.samples, 2);
    assert.equal(fra.body.coldStartTime, 50);
    assert.equal(fra.body.pop.city, 'Frankfurt');
    const series = await getJson(`${url}/api/pops/FRA/timeseries?from=${(nowS - 60) * 1000}&to=${(nowS + 60) * 1000}&step=1m`);
    assert.equal(series.body.points.reduce((n: number, p: { samples: number }) => n + p.samples, 0), 2);
  });

  it("announces a batch's POPs with data_landed (late data re-derives only them), none past LANDED_POPS_MAX", async (t) => {
    const { app, url } = await startTestApp(t);
    const seen: Array<string[] | undefined> = [];
    app.services.bus.subscribe((e) => void (e.type === 'data_landed' && e.earliestMs !== undefined && seen.push(e.pops)));
    const now = Date.now();
    assert.equal((await write(url, [line({ pop: 'FRA', ms: 10, t: now }), line({ pop: 'AMS', ms: 10, t: now - 1 }), line({ pop: 'FRA', fn: 'auth-check', ms: 10, t: now - 2 })].join('\n'))).status, 204);
    assert.deepEqual(seen, [['FRA', 'AMS']]);
    const many = Array.from({ length: LANDED_POPS_MAX + 1 }, (_, i) => line({ pop: `P${i}`, ms: 10, t: now - i, lat: 10, lon: i % 180 }));
    assert.equal((await write(url, many.slice(0, LANDED_POPS_MAX).join('\n'))).status, 204);
    assert.equal(seen[1]!.length, LANDED_POPS_MAX);
    assert.equal((await write(url, many.join('\n'))).status, 204);
    assert.equal(seen[2], undefined, 'more POPs than that: no list (a full re-derive)');
  });

  it('accepts gzip bodies', async (t) => {
    const { url } = await startTestApp(t);
    const now = Date.now();
    const body = Array.from({ length: 100 }, (_, i) => line({ pop: 'AMS', ms: 50 + i, t: now - i })).join('\n');
    const r = await write(url, gzipSync(body), { headers: { 'content-encoding': 'gzip' } });
    assert.equal(r.status, 204);
    assert.equal((await samplesOf(url, 'AMS'))?.samples, 100);
  });

  it('refuses a body with a bad line with 400 naming that line, and stores none of it', async (t) => {
    const { url } = await startTestApp(t);
    const now = Date.now();
    const body = [line({ pop: 'LHR', ms: 10, t: now }), 'cold_start_metrics,pop_code=LHR,function_name=x cold_start_time_ms=abc', line({ pop: 'LHR', ms: 30, t: now })].join('\n');
    const r = await write(url, body);
    assert.equal(r.status, 400);
    assert.equal(r.json?.line, 2);
    assert.equal(r.json?.code, 'invalid_line_protocol');
    assert.match(String(r.json?.message), /line 2/);
    assert.match(String(r.json?.text), /cold_start_time_ms=abc/);
    assert.equal((await samplesOf(url, 'LHR'))?.samples, 0);
  });

  it('explains lines that parse but do not fit the data model', async (t) => {
    const { url } = await startTestApp(t);
    const now = Date.now();
    const cases: Array<[string, string, RegExp]> = [
      [`cold_start_metrics,function_name=f cold_start_time_ms=1 ${now}`, 'missing_tag', /pop_code/],
      [`cold_start_metrics,pop_code=FRA cold_start_time_ms=1 ${now}`, 'missing_tag', /function_name/],
      [`cold_start_metrics,pop_code=FRA,function_name=f other=1 ${now}`, 'missing_field', /cold_start_time_ms/],
      [`cold_start_metrics,pop_code=FRA,function_name=f cold_start_time_ms="slow" ${now}`, 'invalid_field', /number/],
      [`cold_start_metrics,pop_code=FRA,function_name=f cold_start_time_ms=-1 ${now}`, 'invalid_field', />= 0/],
      [`cold_start_metrics,pop_code=NOWHERE,function_name=f cold_start_time_ms=1 ${now}`, 'missing_field', /latitude/],
      [`cold_start_metrics,pop_code=NEW,function_name=f cold_start_time_ms=1,latitude=91,longitude=0 ${now}`, 'invalid_field', /latitude/],
    ];
    for (const [body, code, message] of cases) {
      const r = await write(url, `${line({ pop: 'FRA', ms: 1, t: now })}\n${body}`);
      assert.equal(r.status, 400, body);
      assert.equal(r.json?.code, code, body);
      assert.equal(r.json?.line, 2, body);
      assert.match(String(r.json?.message), message, body);
    }
    assert.equal((await samplesOf(url, 'FRA'))?.samples, 0);
  });

  it('ignores tags and fields beyond the data model, as agents add them', async (t) => {
    const { url } = await startTestApp(t);
    const r = await write(url, `cold_start_metrics,pop_code=FRA,function_name=f,host=agent-1 cold_start_time_ms=5,memory_mb=128i ${Date.now()}`);
    assert.equal(r.status, 204);
    assert.equal((await samplesOf(url, 'FRA'))?.samples, 1);
  });

  it('refuses oversized bodies, gzip bombs, bad precision and unknown encodings', async (t) => {
    const { url } = await startTestApp(t, { INGEST_MAX_BODY_BYTES: '4096' });
    const now = Date.now();
    const big = Array.from({ length: 200 }, (_, i) => line({ pop: 'FRA', ms: i, t: now - i })).join('\n');
    assert.equal((await write(url, big)).status, 413);
    const bomb = gzipSync(Buffer.alloc(1024 * 1024, 'a'));
    assert.ok(bomb.length < 4096);
    const r = await write(url, bomb, { headers: { 'content-encoding': 'gzip' } });
    assert.equal(r.status, 413);
    assert.equal(r.json?.code, 'payload_too_large');
    assert.equal((await write(url, line({ pop: 'FRA', ms: 1, t: now }), { precision: 'h' })).status, 400);
    assert.equal((await write(url, line({ pop: 'FRA', ms: 1, t: now }), { headers: { 'content-encoding': 'br' } })).status, 415);
    assert.equal((await write(url, Buffer.from([0xff, 0xfe, 0x00]))).json?.code, 'invalid_utf8');
    assert.equal((await samplesOf(url, 'FRA'))?.samples, 0);
  });

  it('caps distinct POPs and functions: new ones beyond MAX_POPS / MAX_FUNCTIONS get 422, known ones keep writing', async (t) => {
    const { url } = await startTestApp(t, { MAX_POPS: '3', MAX_FUNCTIONS: '2' });
    const now = Date.now();
    const at = (pop: string, i: number, fn?: string) => line({ pop, fn, ms: 10 + i, t: now - i, lat: 1, lon: 2 });
    assert.equal((await write(url, [at('AAA', 1), at('BBB', 2)].join('\n'))).status, 204);
    // One known and two new: over the cap, so none of the body is stored.
    const over = await write(url, [at('AAA', 3), at('CCC', 4), at('DDD', 5)].join('\n'));
    assert.equal(over.status, 422);
    assert.equal(over.json?.code, 'too_many_pops');
    assert.match(String(over.json?.message), /2 new POPs \(CCC, DDD\).*2 of at most 3.*MAX_POPS/);
    assert.equal((await samplesOf(url, 'AAA'))?.samples, 1);
    assert.equal(await samplesOf(url, 'CCC'), undefined);
    // Known POPs keep writing, and the cap admits exactly up to its size.
    assert.equal((await write(url, [at('AAA', 6), at('BBB', 7), at('CCC', 8)].join('\n'))).status, 204);
    assert.equal((await write(url, at('DDD', 9))).status, 422);
    assert.equal((await samplesOf(url, 'AAA'))?.samples, 2);
    // Functions likewise (ssr-render is the one used so far).
    assert.equal((await write(url, at('AAA', 10, 'fn-b'))).status, 204);
    const fnOver = await write(url, at('AAA', 11, 'fn-c'));
    assert.equal(fnOver.status, 422);
    assert.equal(fnOver.json?.code, 'too_many_functions');
    assert.match(String(fnOver.json?.message), /MAX_FUNCTIONS/);
  });

  it('requires the API token for writes when API_TOKEN is set', async (t) => {
    const { url } = await startTestApp(t, { API_TOKEN: 's3cret' });
    const body = line({ pop: 'FRA', ms: 1, t: Date.now() });
    const denied = await write(url, body);
    assert.equal(denied.status, 401);
    assert.equal(denied.json?.code, 'unauthorized');
    assert.equal((await write(url, body, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    assert.equal((await write(url, body, { headers: { authorization: 'Bearer s3cret' } })).status, 204);
    assert.equal((await write(url, body, { headers: { authorization: 'Token s3cret' } })).status, 204);
    const basic = `Basic ${Buffer.from('user:s3cret').toString('base64')}`;
    assert.equal((await write(url, body, { headers: { authorization: basic } })).status, 204);
    // Reads stay open.
    assert.equal((await fetch(`${url}/api/dashboard/overview`)).status, 200);
  });
});
