/**
 * Points older than RETENTION in a write: not stored, and said so, as InfluxDB 1.x says it (measured
 * on influxd 1.6: `400 partial write: points beyond retention policy dropped=N`, the others stored).
 * Before, the embedded store dropped them under a 204: a body sent with the wrong precision (seconds
 * read as ms, i.e. 1970) answered 204 and stored nothing. Real HTTP, real DuckDB file.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { getJson, line, startTestApp, write } from '../testing/start-app.ts';

it('a write with points older than RETENTION stores the others and answers 400 beyond_retention, naming the first and how many', async (t) => {
  const { url } = await startTestApp(t, { RETENTION: '1d' });
  const now = Date.now();
  // Line 2 and 3: two days old; lines 1 and 4 are fresh.
  const body = [line({ pop: 'FRA', ms: 100, t: now - 2000 }), line({ pop: 'AMS', ms: 50, t: now - 2 * 86_400_000 }), line({ pop: 'AMS', ms: 60, t: now - 3 * 86_400_000 }), line({ pop: 'LHR', ms: 80, t: now - 1000 })].join('\n');
  const r = await write(url, body);
  assert.equal(r.status, 400);
  assert.equal(r.json?.code, 'beyond_retention');
  assert.equal(r.json?.line, 2);
  assert.equal(r.json?.dropped, 2);
  assert.equal(r.json?.stored, 2);
  assert.match(String(r.json?.message), /^partial write: points beyond retention policy dropped=2: line 2 is dated .*older than RETENTION \(24 h\); the other 2 point\(s\) were stored\. Check the precision \(ms\)/);
  const o = await getJson(`${url}/api/dashboard/overview?window=5m`);
  assert.equal(o.body.samples, 2, 'the fresh points were stored');

  // The classic mistake: seconds sent as ms (1970): nothing stored, and a 400 that says why, not a 204.
  const seconds = Math.floor(now / 1000);
  const wrong = await write(url, `cold_start_metrics,pop_code=NRT,function_name=ssr-render cold_start_time_ms=70 ${seconds}`);
  assert.equal(wrong.status, 400);
  assert.equal(wrong.json?.code, 'beyond_retention');
  assert.equal(wrong.json?.stored, 0);
  assert.match(String(wrong.json?.message), /dated 1970-01-/);
  // With the right precision the same line is stored.
  assert.equal((await write(url, `cold_start_metrics,pop_code=NRT,function_name=ssr-render cold_start_time_ms=70 ${seconds}`, { precision: 's' })).status, 204);
  assert.equal((await getJson(`${url}/api/dashboard/overview?window=5m`)).body.samples, 3);
});

it('RETENTION=0d keeps everything: an old point is stored with 204', async (t) => {
  const { url } = await startTestApp(t, { RETENTION: '0d' });
  assert.equal((await write(url, line({ pop: 'FRA', ms: 100, t: Date.now() - 30 * 86_400_000 }))).status, 204);
});
