import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { ConfigError, loadConfig } from '../config.ts';
import { line, startTestApp, write } from '../testing/start-app.ts';
import { WS_TOKEN_PROTOCOL_PREFIX } from './auth.ts';

const API = 'api-secret';
const VIEWER = 'viewer-secret';
const METRICS = 'metrics-secret';
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

/** Opens /ws; resolves with the first message, or with the HTTP status the upgrade was refused with. */
function openWs(url: string, opts: { protocols?: string[]; headers?: Record<string, string> } = {}): Promise<{ type?: string; status?: number; protocol?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`, opts.protocols ?? [], { headers: opts.headers });
    const timer = setTimeout(() => reject(new Error('no answer from /ws')), 10_000);
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      resolve({ status: res.statusCode });
      ws.terminate();
    });
    ws.on('message', (data) => {
      clearTimeout(timer);
      resolve({ type: (JSON.parse(String(data)) as { type: string }).type, protocol: ws.protocol });
      ws.close();
    });
    ws.on('error', (err) => {
      if (!String(err.message).includes('Unexpected server response')) reject(err);
    });
  });
}

describe('viewer access (VIEWER_TOKEN, METRICS_TOKEN)', () => {
  it('needs the viewer token or API_TOKEN for every read, never lets the viewer token write, keeps /health open without details', async (t) => {
    const { url } = await startTestApp(t, { API_TOKEN: API, VIEWER_TOKEN: VIEWER, METRICS_TOKEN: METRICS });
    assert.equal((await write(url, line({ pop: 'FRA', ms: 100, t: Date.now() }), { headers: bearer(API) })).status, 204);

    for (const path of ['/api/dashboard/overview', '/api/heatmap', '/api/pops', '/api/pops/FRA', '/api/pops/FRA/timeseries', '/api/functions', '/api/alerts', '/api/no-such-read']) {
      const anon = await fetch(`${url}${path}`);
      assert.equal(anon.status, 401, `${path} without a token`);
      const body = (await anon.json()) as { code: string; message: string };
      assert.equal(body.code, 'unauthorized');
      assert.match(body.message, /VIEWER_TOKEN/);
      assert.equal((await fetch(`${url}${path}`, { headers: bearer('wrong') })).status, 401, `${path} with a wrong token`);
      if (path === '/api/no-such-read') continue;
      assert.equal((await fetch(`${url}${path}`, { headers: bearer(VIEWER) })).status, 200, `${path} with the viewer token`);
      assert.equal((await fetch(`${url}${path}`, { headers: bearer(API) })).status, 200, `${path} with API_TOKEN`);
    }
    // Basic auth (Grafana-style) and `Token` work for reads too.
    const basic = `Basic ${Buffer.from(`viewer:${VIEWER}`).toString('base64')}`;
    assert.equal((await fetch(`${url}/api/functions`, { headers: { authorization: basic } })).status, 200);
    assert.equal((await fetch(`${url}/api/functions`, { headers: { authorization: `Token ${VIEWER}` } })).status, 200);

    // The viewer token never writes or mutates: 403, and nothing is stored.
    const viewerWrite = await write(url, line({ pop: 'AMS', ms: 100, t: Date.now() }), { headers: bearer(VIEWER) });
    assert.equal(viewerWrite.status, 403);
    assert.equal(viewerWrite.json?.code, 'forbidden');
    const heatmap = (await (await fetch(`${url}/api/heatmap?window=1h`, { headers: bearer(VIEWER) })).json()) as { popCode: string; samples: number }[];
    assert.equal(heatmap.find((e) => e.popCode === 'FRA')?.samples, 1);
    assert.equal(heatmap.find((e) => e.popCode === 'AMS')?.samples, 0);
    for (const path of ['/api/detector/run', '/api/alerts/al_x/acknowledge', '/api/alerts/al_x/resolve']) {
      assert.equal((await fetch(`${url}${path}`, { method: 'POST', headers: bearer(VIEWER) })).status, 403, `POST ${path} with the viewer token`);
      assert.equal((await fetch(`${url}${path}`, { method: 'POST' })).status, 401, `POST ${path} without a token`);
    }

    // /health: the status for anyone (load balancers), the components for token holders.
    const anonHealth = await fetch(`${url}/health`);
    assert.equal(anonHealth.status, 200);
    assert.deepEqual(await anonHealth.json(), { status: 'ok' });
    const fullHealth = (await (await fetch(`${url}/health`, { headers: bearer(VIEWER) })).json()) as { components: Record<string, unknown> };
    assert.ok(fullHealth.components.metricsStore);

    // /metrics: METRICS_TOKEN (or API_TOKEN); the viewer token is not a scraper credential.
    assert.equal((await fetch(`${url}/metrics`)).status, 401);
    assert.equal((await fetch(`${url}/metrics`, { headers: bearer(VIEWER) })).status, 401);
    assert.equal((await fetch(`${url}/metrics`, { headers: bearer(METRICS) })).status, 200);
    assert.equal((await fetch(`${url}/metrics`, { headers: bearer(API) })).status, 200);

    // The dashboard asks what a token allows without provoking a 401.
    const session = async (h: Record<string, string> = {}) => (await (await fetch(`${url}/api/session`, { headers: h })).json()) as { access: string };
    assert.equal((await session()).access, 'none');
    assert.equal((await session(bearer('wrong'))).access, 'none');
    assert.equal((await session(bearer(VIEWER))).access, 'read');
    assert.equal((await session(bearer(API))).access, 'write');

    // The documentation holds no data: open.
    assert.equal((await fetch(`${url}/api/openapi.json`)).status, 200);
    assert.equal((await fetch(`${url}/docs`, { redirect: 'manual' })).status < 400, true);
  });

  it('guards /ws: refused without a token, open with the viewer token as a header or as the browser subprotocol', async (t) => {
    const { url } = await startTestApp(t, { API_TOKEN: API, VIEWER_TOKEN: VIEWER });
    assert.deepEqual(await openWs(url), { status: 401 });
    assert.deepEqual(await openWs(url, { protocols: ['edgeworker.v1', `${WS_TOKEN_PROTOCOL_PREFIX}${Buffer.from('nope').toString('base64url')}`] }), { status: 401 });
    assert.equal((await openWs(url, { headers: bearer(VIEWER) })).type, 'hello');
    const browser = await openWs(url, { protocols: ['edgeworker.v1', `${WS_TOKEN_PROTOCOL_PREFIX}${Buffer.from(VIEWER).toString('base64url')}`] });
    assert.equal(browser.type, 'hello');
    // The server picks the plain protocol: the token is never echoed back.
    assert.equal(browser.protocol, 'edgeworker.v1');
  });

  it('leaves reads, /health details and /metrics open when only API_TOKEN is set', async (t) => {
    const { url } = await startTestApp(t, { API_TOKEN: API });
    assert.equal((await fetch(`${url}/api/heatmap`)).status, 200);
    assert.ok(((await (await fetch(`${url}/health`)).json()) as { components?: unknown }).components);
    assert.equal((await fetch(`${url}/metrics`)).status, 200);
    assert.equal((await openWs(url)).type, 'hello');
    assert.equal((await fetch(`${url}/api/detector/run`, { method: 'POST' })).status, 401);
  });

  it('refuses a viewer token without API_TOKEN, or equal to it', () => {
    assert.throws(() => loadConfig({ VIEWER_TOKEN: VIEWER }), (e: Error) => e instanceof ConfigError && /VIEWER_TOKEN needs API_TOKEN/.test(e.message));
    assert.throws(() => loadConfig({ VIEWER_TOKEN: API, API_TOKEN: API }), /must differ/);
    const c = loadConfig({ VIEWER_TOKEN: VIEWER, API_TOKEN: API, METRICS_TOKEN: METRICS });
    assert.equal(c.viewerToken, VIEWER);
    assert.equal(c.metricsToken, METRICS);
  });
});

describe('security headers', () => {
  it('sends a CSP and the helmet headers on the API, /health and the docs', async (t) => {
    const { url } = await startTestApp(t);
    for (const path of ['/api/functions', '/health', '/docs/']) {
      const res = await fetch(`${url}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'self'/, path);
      assert.match(csp, /script-src 'self'(;|$)/, path);
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN', path);
    }
    assert.match((await fetch(`${url}/api/functions`)).headers.get('content-security-policy') ?? '', /style-src 'self'(;|$)/);
    assert.match((await fetch(`${url}/docs/`)).headers.get('content-security-policy') ?? '', /style-src 'self' 'unsafe-inline'/);
    const docs = await fetch(`${url}/docs/`);
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger-ui-bundle\.js/);
    const spec = (await (await fetch(`${url}/docs/json`)).json()) as { paths: Record<string, unknown> };
    assert.ok(spec.paths['/api/heatmap'], 'the docs show the same OpenAPI document');
  });
});

describe('OpenTelemetry configuration', () => {
  it('is read from the standard variables', () => {
    assert.equal(loadConfig({}).otel, undefined);
    const c = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'ewm-a', OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=a%3Db,x-team=sre', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod' });
    assert.deepEqual(c.otel, { tracesUrl: 'http://collector:4318/v1/traces', protocol: 'http/json', serviceName: 'ewm-a', headers: { 'x-api-key': 'a=b', 'x-team': 'sre' }, resourceAttributes: { 'deployment.environment': 'prod' } });
    assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/custom' }).otel?.tracesUrl, 'http://c:4318/custom');
    assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).otel?.protocol, 'http/protobuf');
    assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }).otel, undefined);
    assert.throws(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), /http\/protobuf or http\/json/);
    assert.throws(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'c:4318' }), /OTEL_EXPORTER_OTLP_ENDPOINT/);
  });
});
