/**
 * URLs that the router itself judges: every POP code ingest accepts can be asked for by
 * its route, and a path the router refuses still answers `{code, message, requestId}`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { getJson, startTestApp, write } from '../testing/start-app.ts';

describe('hostile URLs', () => {
  it('answers /api/pops/:code for every POP code ingest accepts (128 characters, non-ASCII ones percent-encoded)', async (t) => {
    const { url } = await startTestApp(t);
    const now = Date.now();
    // Longer than the router's default 100 characters once in the URL; tags hold up to 128.
    const codes = ['L'.repeat(128), 'Zürich-ü'.repeat(16), '東京🚀'.repeat(32)];
    for (const code of codes) {
      assert.ok(code.length <= 128, code);
      const r = await write(url, `cold_start_metrics,pop_code=${code},function_name=ssr-render cold_start_time_ms=5,latitude=1,longitude=1 ${now}`);
      assert.equal(r.status, 204, JSON.stringify(r.json));
      const detail = await getJson(`${url}/api/pops/${encodeURIComponent(code)}?window=5m`);
      assert.equal(detail.status, 200, `${code}: ${JSON.stringify(detail.body)}`);
      assert.equal(detail.body.pop.code, code);
      assert.equal(detail.body.samples, 1);
      const series = await getJson(`${url}/api/pops/${encodeURIComponent(code)}/timeseries`);
      assert.equal(series.status, 200, code);
    }
    // Past what any accepted code can be: still our own error shape.
    const long = await getJson(`${url}/api/pops/${'x'.repeat(5000)}`);
    assert.ok(long.status === 400 || long.status === 404 || long.status === 414, String(long.status));
    assert.deepEqual(Object.keys(long.body).sort(), ['code', 'message', 'requestId']);
  });

  it('answers a path that is not valid percent-encoded UTF-8 with {code, message, requestId}', async (t) => {
    const { url } = await startTestApp(t);
    for (const path of ['/api/pops/%FF%FE', '/api/alerts/%E0', '/api/pops/x%C3/timeseries']) {
      const r = await fetch(`${url}${path}`);
      const body = (await r.json()) as Record<string, unknown>;
      assert.equal(r.status, 400, path);
      assert.equal(body.code, 'bad_request', path);
      assert.match(String(body.message), /percent-encoded UTF-8/, path);
      assert.equal(body.requestId, r.headers.get('x-request-id'), path);
    }
  });

  it('answers a request that is not valid HTTP with {code, message, requestId} and an X-Request-Id, not "Client Error"', async (t) => {
    const { url } = await startTestApp(t);
    const { hostname, port } = new URL(url);
    const raw = (payload: string) => new Promise<string>((resolve) => {
      const s = connect(Number(port), hostname);
      let out = '';
      s.on('data', (d) => (out += d));
      s.on('close', () => resolve(out));
      s.on('error', () => undefined);
      s.write(payload);
    });
    const cases: Array<[string, number, string, RegExp]> = [
      ['GET /api/functions HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n', 400, 'bad_request', /not valid HTTP\/1\.1/],
      ['GARBAGE\r\n\r\n', 400, 'bad_request', /not valid HTTP\/1\.1/],
      [`GET /api/functions HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'headers_too_large', /headers are larger than/],
    ];
    for (const [payload, status, code, message] of cases) {
      const answer = await raw(payload);
      const [head, body] = answer.split('\r\n\r\n');
      assert.match(head!, new RegExp(`^HTTP/1\\.1 ${status} `), answer);
      const json = JSON.parse(body!) as Record<string, unknown>;
      assert.equal(json.code, code);
      assert.match(String(json.message), message);
      assert.equal(head!.match(/x-request-id: (.+)/i)?.[1], json.requestId);
    }
  });
});
