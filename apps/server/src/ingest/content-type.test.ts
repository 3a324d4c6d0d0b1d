/**
 * InfluxDB ignores Content-Type on writes; so do both write endpoints. Debian's
 * `influx -import` sends an empty `Content-Type:` header, which Fastify alone answers 415.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { getJson, line, startTestApp } from '../testing/start-app.ts';

/** A raw request, so the header can be empty or malformed (fetch would normalise it). */
function post(url: string, path: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method: 'POST', path, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const CONTENT_TYPES: Array<[string, Record<string, string>]> = [
  ['an empty Content-Type', { 'content-type': '' }],
  ['no Content-Type', {}],
  ['a malformed Content-Type', { 'content-type': 'garbage' }],
  ['application/json', { 'content-type': 'application/json' }],
  ['a form type', { 'content-type': 'application/x-www-form-urlencoded' }],
  ['text/plain', { 'content-type': 'text/plain; charset=utf-8' }],
];

describe('write endpoints take any content type', () => {
  it('stores the body whatever the Content-Type says, on /write and /api/v2/write', async (t) => {
    const { url } = await startTestApp(t);
    const now = Date.now();
    let n = 0;
    for (const path of ['/write?db=edgeworker&precision=ms', '/api/v2/write?bucket=edgeworker&precision=ms']) {
      for (const [what, headers] of CONTENT_TYPES) {
        const r = await post(url, path, headers, line({ pop: 'CDG', ms: 10 + n, t: now - n }));
        assert.equal(r.status, 204, `${path} with ${what}: ${r.status} ${r.body}`);
        n++;
      }
    }
    const cdg = await getJson<{ samples: number }>(`${url}/api/pops/CDG?window=1h`);
    assert.equal(cdg.body.samples, n);
  });

  it('still refuses a bad body with 400 when the Content-Type is empty', async (t) => {
    const { url } = await startTestApp(t);
    const r = await post(url, '/write?db=edgeworker', { 'content-type': '' }, 'cold_start_metrics,pop_code=CDG cold_start_time_ms=');
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body).code, 'invalid_line_protocol');
  });
});
