/**
 * What reaches clients and the log (issue 15: M2, L3, request ids): no token or
 * password in a log line, in /health or in a 5xx body; request ids capped.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { loadConfig } from '../config.ts';
import { line, startTestApp, write } from '../testing/start-app.ts';
import { waitFor } from '../testing/wait.ts';

/** A log destination the test can read. */
function logSink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { stream, text: () => lines.join('\n'), lines };
}

describe('request ids', () => {
  it('keeps a client id that looks like one, replaces anything else, and answers with it', async (t) => {
    const { url } = await startTestApp(t);
    const id = async (given?: string) => {
      const res = await fetch(`${url}/api/pops/NOPE`, given === undefined ? {} : { headers: { 'x-request-id': given } });
      const body = (await res.json()) as { requestId: string };
      assert.equal(res.headers.get('x-request-id'), body.requestId);
      return body.requestId;
    };
    assert.equal(await id('lb-7f3a:01.2_x'), 'lb-7f3a:01.2_x');
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    assert.match(await id(), uuid);
    assert.match(await id('x'.repeat(65)), uuid);
    assert.match(await id('a b"c'), uuid);
    assert.match(await id('<script>'), uuid);
  });
});

describe('secrets stay out of the log, /health and error bodies', () => {
  it('never logs the token of ?p= or u=, nor an Authorization header, even at trace level', async (t) => {
    const log = logSink();
    const token = 'tok-5ecret-123';
    const { url, app } = await startTestApp(t, { API_TOKEN: token, LOG_LEVEL: 'trace' }, { logDestination: log.stream });
    const body = line({ pop: 'FRA', ms: 100, t: Date.now() });
    const viaQuery = await fetch(`${url}/write?db=edgeworker&precision=ms&u=alice&p=${token}`, { method: 'POST', body });
    assert.equal(viaQuery.status, 204);
    assert.equal((await write(url, body, { headers: { authorization: `Token ${token}` } })).status, 204);
    assert.equal((await write(url, body, { headers: { authorization: 'Token wrong' } })).status, 401);
    app.log.info({ req: { method: 'POST', url: `/write?p=${token}`, headers: { authorization: `Token ${token}` } } }, 'a line that logs a request');
    await waitFor(() => log.lines.some((l) => l.includes('a line that logs a request')), 2000, 'the log line');
    assert.match(log.text(), /request completed/, 'requests are logged at this level');
    assert.match(log.text(), /p=\*\*\*/);
    assert.doesNotMatch(log.text(), new RegExp(token));
    assert.doesNotMatch(log.text(), /alice/);
  });

  it('takes user:password out of INFLUX_URL: not in /health, 503 bodies or the log', async (t) => {
    const log = logSink();
    const env = { METRICS_STORE: 'influxdb', INFLUX_URL: 'http://edge:pa55w0rd@127.0.0.1:1', INFLUX_TIMEOUT_MS: '500', LOG_LEVEL: 'debug' };
    const config = loadConfig(env);
    assert.equal(config.influx?.url, 'http://127.0.0.1:1');
    assert.equal(config.influx?.username, 'edge');
    assert.equal(config.influx?.password, 'pa55w0rd');
    const { url } = await startTestApp(t, env, { logDestination: log.stream });
    const health = await fetch(`${url}/health`);
    assert.equal(health.status, 503);
    const healthText = await health.text();
    assert.match(healthText, /cannot reach InfluxDB/, 'still says what is wrong');
    const heat = await fetch(`${url}/api/heatmap`);
    assert.equal(heat.status, 503);
    const heatBody = (await heat.json()) as { code: string; message: string; requestId: string };
    assert.equal(heatBody.code, 'store_unavailable');
    assert.doesNotMatch(heatBody.message, /127\.0\.0\.1|ECONNREFUSED|InfluxDB at/, 'no store internals in a 5xx body');
    // …which are in the log under the request id.
    await waitFor(() => log.lines.some((l) => l.includes(heatBody.requestId) && /cannot reach InfluxDB/.test(l)), 2000, 'the store error logged under the request id');
    for (const text of [healthText, JSON.stringify(heatBody), log.text()]) assert.doesNotMatch(text, /pa55w0rd/);
  });
});
