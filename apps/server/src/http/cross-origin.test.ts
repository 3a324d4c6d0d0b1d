/**
 * Browsers on other origins may not change anything (issue 15: M3, L1): CORS closed by
 * default, cross-origin mutations and WebSocket handshakes refused unless CORS_ORIGINS
 * allows the origin; clients without an Origin (InfluxDB clients, curl) unaffected.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { getJson, line, startTestApp } from '../testing/start-app.ts';

const EVIL = 'https://evil.example';

function post(url: string, path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${url}${path}`, { method: 'POST', body, headers: { 'content-type': 'text/plain', ...headers } });
}

/** Opens /ws with the given Origin; resolves 'open' or the handshake's HTTP status. */
function handshake(url: string, origin?: string): Promise<'open' | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`, origin ? { origin } : {});
    ws.on('open', () => {
      ws.terminate();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', (err) => reject(err));
    setTimeout(() => reject(new Error(`no handshake answer for origin ${origin}`)), 5000).unref();
  });
}

async function samples(url: string): Promise<number> {
  return (await getJson(`${url}/api/dashboard/overview?window=1h`)).body.samples;
}

describe('cross-origin requests', () => {
  it('refuses browser writes, detector runs and sockets from other origins; clients without Origin are unaffected', async (t) => {
    const { url } = await startTestApp(t);
    const body = line({ pop: 'FRA', ms: 100, t: Date.now() });

    const evilWrite = await post(url, '/write?db=edgeworker&precision=ms', body, { origin: EVIL });
    assert.equal(evilWrite.status, 403);
    const refusal = (await evilWrite.json()) as { code: string; message: string };
    assert.equal(refusal.code, 'cross_origin_refused');
    assert.match(refusal.message, /CORS_ORIGINS/);
    assert.equal(evilWrite.headers.get('access-control-allow-origin'), null);
    assert.equal((await post(url, '/api/v2/write?bucket=edgeworker&precision=ms', body, { origin: EVIL })).status, 403);
    assert.equal((await post(url, '/api/detector/run', '', { origin: EVIL })).status, 403);
    // A browser that sends Sec-Fetch-Site but (oddly) no Origin.
    assert.equal((await post(url, '/write?precision=ms', body, { 'sec-fetch-site': 'cross-site' })).status, 403);
    assert.equal((await post(url, '/write?precision=ms', body, { origin: 'null' })).status, 403);
    assert.equal(await samples(url), 0, 'nothing of the refused writes was stored');

    // InfluxDB clients and curl send no Origin; the dashboard sends its own.
    // Three distinct points: the same point written again would replace the first (last write wins).
    const at = (i: number) => line({ pop: 'FRA', ms: 100, t: Date.now() - 1000 + i });
    assert.equal((await post(url, '/write?precision=ms', at(1))).status, 204);
    assert.equal((await post(url, '/write?precision=ms', at(2), { origin: url, 'sec-fetch-site': 'same-origin' })).status, 204);
    // Behind a proxy that rewrites Host but says what it was.
    assert.equal((await post(url, '/write?precision=ms', at(3), { origin: 'https://monitor.example', 'x-forwarded-host': 'monitor.example' })).status, 204);
    assert.equal(await samples(url), 3);

    // Reads stay readable by anyone (curl, Grafana's backend), but no browser page elsewhere gets CORS headers.
    const read = await fetch(`${url}/api/functions`, { headers: { origin: EVIL } });
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('access-control-allow-origin'), null);
    const preflight = await fetch(`${url}/write`, { method: 'OPTIONS', headers: { origin: EVIL, 'access-control-request-method': 'POST' } });
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);

    assert.equal(await handshake(url, EVIL), 403);
    assert.equal(await handshake(url, url), 'open');
    assert.equal(await handshake(url), 'open');
  });

  it('lets the origins in CORS_ORIGINS in, with CORS headers', async (t) => {
    const grafana = 'https://grafana.example.com';
    const { url } = await startTestApp(t, { CORS_ORIGINS: `${grafana}, http://localhost:3000` });
    const preflight = await fetch(`${url}/write`, { method: 'OPTIONS', headers: { origin: grafana, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), grafana);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/);
    const w = await post(url, '/write?precision=ms', line({ pop: 'FRA', ms: 100, t: Date.now() }), { origin: grafana });
    assert.equal(w.status, 204);
    assert.equal(w.headers.get('access-control-allow-origin'), grafana);
    assert.equal(await handshake(url, grafana), 'open');
    assert.equal((await post(url, '/api/detector/run', '', { origin: EVIL })).status, 403, 'other origins stay out');
    assert.equal(await handshake(url, EVIL), 403);
  });
});
