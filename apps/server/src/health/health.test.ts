import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { createHealthRegistry } from './health.ts';
import { getJson, line, startTestApp, write } from '../testing/start-app.ts';

describe('health', () => {
  it('reports each component and 503 when a required one is down', async () => {
    const h = createHealthRegistry();
    h.register({ name: 'store', required: true, check: () => ({ status: 'ok' }) });
    h.register({ name: 'cache', required: false, check: () => { throw new Error('redis refused'); } });
    let r = await h.report();
    assert.equal(r.status, 'degraded');
    assert.deepEqual(r.components.cache, { status: 'down', error: 'redis refused', required: false });
    h.register({ name: 'store', required: true, check: async () => ({ status: 'down', error: 'disk full' }) });
    r = await h.report();
    assert.equal(r.status, 'down');
  });

  it('serves /health and Prometheus /metrics from the real app', async (t) => {
    const { url } = await startTestApp(t);
    await write(url, line({ pop: 'FRA', ms: 10, t: Date.now() }));
    const health = await getJson(`${url}/health`);
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
    assert.equal(health.body.components.metricsStore.status, 'ok');
    assert.equal(health.body.components.metricsStore.kind, 'duckdb');
    assert.equal(health.body.components.metricsStore.required, true);
    const text = await (await fetch(`${url}/metrics`)).text();
    assert.match(text, /^edgeworker_ingested_points_total 1$/m);
    assert.match(text, /^edgeworker_ws_clients 0$/m);
    assert.match(text, /edgeworker_http_request_duration_seconds_bucket\{.*route="\/write"/);
    // /health as gauges, for docs/alerts.yml
    assert.match(text, /^edgeworker_component_up\{component="metricsStore"\} 1$/m);
    assert.match(text, /^edgeworker_component_up\{component="notify"\} 1$/m);
    const age = Number(/^edgeworker_latest_sample_age_seconds\{store="duckdb"\} ([\d.e+-]+)$/m.exec(text)?.[1]);
    assert.ok(age >= 0 && age < 60, `sample age ${age}`);
  });

  it('counts refused writes under the code their answer carries (runbook: rejected_total by code)', async (t) => {
    const { url } = await startTestApp(t, { INGEST_MAX_BODY_BYTES: '1024', DETECTOR: 'off' });
    const plain = await fetch(`${url}/write`, { method: 'POST', body: 'x'.repeat(3000) });
    const gzipped = await fetch(`${url}/write`, { method: 'POST', headers: { 'content-encoding': 'gzip' }, body: gzipSync('x'.repeat(5000)) });
    const bad = await fetch(`${url}/write`, { method: 'POST', body: 'garbage' });
    const codes = [await plain.json(), await gzipped.json(), await bad.json()].map((b) => (b as { code: string }).code);
    assert.deepEqual([plain.status, gzipped.status, bad.status], [413, 413, 400]);
    assert.deepEqual(codes, ['payload_too_large', 'payload_too_large', 'invalid_line_protocol']);
    const text = await (await fetch(`${url}/metrics`)).text();
    const counted = [...text.matchAll(/^edgeworker_ingest_rejected_total\{code="([^"]+)"\} (\d+)$/gm)].map((m) => `${m[1]}=${m[2]}`).sort();
    assert.deepEqual(counted, ['invalid_line_protocol=1', 'payload_too_large=2']);
  });

  it('answers 503 when the metrics store cannot answer', async (t) => {
    const { url, app } = await startTestApp(t);
    // A really closed store, not a stub: every query on it now fails.
    await app.services.store.close();
    const health = await getJson(`${url}/health`);
    assert.equal(health.status, 503);
    assert.equal(health.body.components.metricsStore.status, 'down');
    assert.match(health.body.components.metricsStore.error, /closed/);
    const text = await (await fetch(`${url}/metrics`)).text();
    assert.match(text, /^edgeworker_component_up\{component="metricsStore"\} 0$/m);
    assert.doesNotMatch(text, /^edgeworker_latest_sample_age_seconds\{/m);
  });
});
