import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { startOtlpReceiver, type ReceivedSpan } from '../testing/otlp-receiver.ts';
import { line, startTestApp, write } from '../testing/start-app.ts';
import { startHttpReceiver, sampleAlert } from '../notify/test-receivers.ts';
import { tracingEnabled } from './spans.ts';

function nextMessage(ws: WebSocket, type: string, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} within ${timeoutMs} ms`)), timeoutMs);
    ws.on('message', function onMessage(data) {
      const m = JSON.parse(String(data)) as { type: string };
      if (m.type !== type) return;
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolve(m);
    });
  });
}

/** Whether `span` descends from `ancestor` among the spans received. */
function descends(spans: ReceivedSpan[], span: ReceivedSpan, ancestor: ReceivedSpan): boolean {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  for (let s: ReceivedSpan | undefined = span; s; s = byId.get(s.parentSpanId)) if (s.parentSpanId === ancestor.spanId) return true;
  return false;
}

describe('OpenTelemetry tracing into a real OTLP/HTTP receiver', () => {
  it('exports one trace per request (OTLP/JSON): ingest → store write → bus → WebSocket broadcast, cache and store inside reads, detector passes, notifications', async (t) => {
    const otlp = await startOtlpReceiver(t);
    const hook = await startHttpReceiver(t);
    const { url, app } = await startTestApp(t, {
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'ewm-test',
      ALERT_WEBHOOK_URL: hook.url,
    });
    assert.ok(app.services.tracing);
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
    t.after(() => ws.terminate());
    await nextMessage(ws, 'hello');
    const update = nextMessage(ws, 'metrics_update');
    assert.equal((await write(url, line({ pop: 'FRA', ms: 120, t: Date.now() }))).status, 204);
    await update;
    assert.equal((await fetch(`${url}/api/heatmap?window=5m`)).status, 200);
    assert.equal((await fetch(`${url}/api/detector/run`, { method: 'POST' })).status, 200);
    await app.services.notifier.notify('opened', sampleAlert());
    // A caller's trace context is continued, not replaced.
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    await fetch(`${url}/api/functions`, { headers: { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` } });
    await app.services.tracing.flush();

    const req = await otlp.waitForSpan((s) => s.name === 'POST /write', 'the request span of the write');
    assert.equal(req.service, 'ewm-test');
    const inTrace = (name: string) => otlp.waitForSpan((s) => s.name === name && s.traceId === req.traceId, `${name} in the write's trace`);
    const ingest = await inTrace('ingest.store');
    const storeWrite = await inTrace('store.write');
    const publish = await inTrace('bus.publish data_landed');
    const broadcast = await inTrace('ws.broadcast metrics_update');
    for (const s of [ingest, storeWrite, publish, broadcast]) assert.ok(descends(otlp.spans, s, req), `${s.name} is inside POST /write`);
    assert.equal(storeWrite.parentSpanId, ingest.spanId);
    assert.equal(storeWrite.attributes['db.system.name'], 'duckdb');

    const heatmap = await otlp.waitForSpan((s) => s.name === 'GET /api/heatmap', 'the heatmap request span');
    const cacheGet = await otlp.waitForSpan((s) => s.name === 'cache.get' && s.traceId === heatmap.traceId, 'a cache lookup inside the heatmap request');
    const query = await otlp.waitForSpan((s) => s.name.startsWith('store.') && s.traceId === heatmap.traceId, 'a store query inside the heatmap request');
    assert.ok(descends(otlp.spans, cacheGet, heatmap) && descends(otlp.spans, query, heatmap));

    const run = await otlp.waitForSpan((s) => s.name === 'POST /api/detector/run', 'the detector run request');
    const pass = await otlp.waitForSpan((s) => s.name === 'detector.pass' && s.traceId === run.traceId, 'the detector pass');
    assert.equal(typeof pass.attributes['detector.evaluated'], 'number');
    const notify = await otlp.waitForSpan((s) => s.name === 'notify webhook', 'the webhook notification');
    assert.equal(notify.attributes['notify.attempts'], 1);

    // Two writes inside one coalescing window (right after an update, so the next may go only a second
    // later): one broadcast, in the first write's trace, linked to the second's.
    const sent = nextMessage(ws, 'metrics_update');
    assert.equal((await write(url, line({ pop: 'AMS', ms: 85, t: Date.now() }))).status, 204);
    await sent;
    const next = nextMessage(ws, 'metrics_update');
    assert.equal((await write(url, line({ pop: 'AMS', ms: 90, t: Date.now() }), { headers: { traceparent: `00-${'a'.repeat(32)}-00f067aa0ba902b7-01` } })).status, 204);
    assert.equal((await write(url, line({ pop: 'AMS', ms: 95, t: Date.now() }), { headers: { traceparent: `00-${'b'.repeat(32)}-00f067aa0ba902b7-01` } })).status, 204);
    await next;
    await app.services.tracing.flush();
    const coalesced = await otlp.waitForSpan((s) => s.name === 'ws.broadcast metrics_update' && s.traceId === 'a'.repeat(32), 'the broadcast of the first write');
    assert.ok(coalesced.links.some((l) => l.traceId === 'b'.repeat(32)), 'the coalesced second write is linked');

    const continued = await otlp.waitForSpan((s) => s.name === 'GET /api/functions', 'the functions request');
    assert.equal(continued.traceId, callerTrace);
    // Health probes and scrapes make no spans.
    await fetch(`${url}/health`);
    await app.services.tracing.flush();
    assert.equal(otlp.spans.some((s) => s.name.includes('/health')), false);
    assert.ok(otlp.contentTypes.every((c) => c.startsWith('application/json')));
  });

  it('exports OTLP/protobuf by default', async (t) => {
    const otlp = await startOtlpReceiver(t);
    const { url, app } = await startTestApp(t, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${otlp.url}/v1/traces`, OTEL_SERVICE_NAME: 'ewm-proto' });
    assert.equal((await fetch(`${url}/api/pops`)).status, 200);
    await app.services.tracing!.flush();
    const span = await otlp.waitForSpan((s) => s.name === 'GET /api/pops', 'the request span');
    assert.equal(span.service, 'ewm-proto');
    assert.match(span.traceId, /^[0-9a-f]{32}$/);
    assert.equal(otlp.contentTypes[0], 'application/x-protobuf');
  });

  it('is off, with no provider and no spans, when no endpoint is set', async (t) => {
    const { url, app } = await startTestApp(t);
    assert.equal(app.services.tracing, undefined);
    assert.equal(tracingEnabled(), false);
    assert.equal((await fetch(`${url}/api/functions`)).status, 200);
  });
});
