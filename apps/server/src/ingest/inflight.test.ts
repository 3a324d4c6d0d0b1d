/**
 * Write bodies in flight are bounded by bytes (INGEST_MAX_INFLIGHT_BYTES): each 10 MB body
 * held ~50 MB of the server's memory while it was read, parsed and stored, and nothing
 * bounded how many arrived at once. Beyond the bound a write is refused before its body is
 * read, with 503 and Retry-After (nothing stored; retry), and a slot is given back when its
 * request ends, however it ends (real HTTP server, real DuckDB).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { getJson, line, startTestApp, write } from '../testing/start-app.ts';

/** A write whose body is sent in two halves: it stays in flight until `finish` sends the rest. */
function slowWrite(url: string, body: string) {
  const bytes = Buffer.from(body);
  const { hostname, port } = new URL(url);
  let settle!: (status: number) => void;
  const done = new Promise<number>((resolve) => (settle = resolve));
  const req = request({ host: hostname, port, method: 'POST', path: '/write?precision=ms', headers: { 'content-length': bytes.length } }, (res) => {
    res.resume();
    res.on('end', () => settle(res.statusCode ?? 0));
  });
  req.on('error', () => settle(-1));
  req.write(bytes.subarray(0, bytes.length >> 1));
  // Sent once the first half is on the wire: the server has the request's headers by then.
  const started = new Promise<void>((resolve) => req.once('socket', (s) => s.once('connect', () => setTimeout(resolve, 100))));
  return {
    started,
    done,
    finish: () => req.end(bytes.subarray(bytes.length >> 1)),
    abort: () => req.destroy(),
  };
}

const body = (pop: string, n: number, t: number) => Array.from({ length: n }, (_, i) => line({ pop, ms: 10, t: t - i })).join('\n');

describe('write bodies in flight', () => {
  it('refuses a write beyond INGEST_MAX_INFLIGHT_BYTES with 503 and Retry-After, and takes it once the other is done', async (t) => {
    const { url } = await startTestApp(t, { INGEST_MAX_INFLIGHT_BYTES: String(1024 * 1024) });
    const now = Date.now();
    const big = body('FRA', 8000, now); // ~700 KB
    assert.ok(big.length > 600_000 && big.length < 1024 * 1024);
    const first = slowWrite(url, big);
    // Hooks run after the app's close, which would wait for this request: ended here whatever happens.
    try {
      await refusedBeside(first);
    } finally {
      first.abort();
    }
    assert.equal((await write(url, body('AMS', 8000, now))).status, 204, 'taken once the first is done');
    const o = await getJson(`${url}/api/dashboard/overview?window=5m`);
    assert.equal(o.body.samples, 16_001);

    async function refusedBeside(first: ReturnType<typeof slowWrite>) {
      await first.started;
      const second = await fetch(`${url}/write?precision=ms`, { method: 'POST', body: body('AMS', 8000, now) });
      assert.equal(second.status, 503);
      assert.equal(second.headers.get('retry-after'), '1');
      const refused = (await second.json()) as Record<string, unknown>;
      assert.equal(refused.code, 'ingest_busy');
      assert.match(String(refused.message), /INGEST_MAX_INFLIGHT_BYTES/);
      // A small write still fits beside the big one.
      assert.equal((await write(url, line({ pop: 'LHR', ms: 10, t: now }))).status, 204);
      first.finish();
      assert.equal(await first.done, 204);
    }
  });

  it('gives the slot back when a client goes away mid-body, and always takes one body alone', async (t) => {
    const { url } = await startTestApp(t, { INGEST_MAX_INFLIGHT_BYTES: String(1024 * 1024) });
    const now = Date.now();
    const gone = slowWrite(url, body('FRA', 8000, now));
    await gone.started;
    gone.abort();
    await gone.done;
    // Larger than the whole bound, but alone: taken.
    const huge = body('AMS', 14_000, now);
    assert.ok(huge.length > 1024 * 1024);
    let status = 0;
    for (let i = 0; i < 50 && status !== 204; i++) {
      status = (await write(url, huge)).status;
      if (status !== 204) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 204, 'the aborted write gave its slot back');
  });
});
