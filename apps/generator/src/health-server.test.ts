import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WriterStats } from './buffered-writer.ts';
import { healthStatus, startHealthServer } from './health-server.ts';

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);
const base = (): WriterStats => ({
  bufferedPoints: 0,
  bufferedBatches: 0,
  sentPoints: 1500,
  droppedPoints: 0,
  rejectedPoints: 0,
  consecutiveFailures: 0,
  lastSuccessAt: new Date(NOW - 5000).toISOString(),
  lastError: null,
  lastWriteLatencyMs: 12.5,
});

test('GET /health over real HTTP: ok, then degraded (503) after 60 s of failures', async (t) => {
  let stats = base();
  const server = await startHealthServer({ port: 0, stats: () => ({ ...stats, seed: 42 }), now: () => NOW });
  t.after(() => server.close());
  assert.ok(server.port > 0);
  const get = async (path = '/health') => {
    const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  let r = await get();
  assert.equal(r.status, 200);
  assert.equal(r.body.status, 'ok');
  assert.equal(r.body.sentPoints, 1500);
  assert.equal(r.body.seed, 42, 'extra fields are passed through');
  assert.equal(r.body.bufferedPoints, 0);
  assert.equal(r.body.droppedPoints, 0);

  // Failing, but the last success is recent: a blip, still ok.
  stats = { ...base(), consecutiveFailures: 2, bufferedPoints: 3000, lastError: 'HTTP 503' };
  r = await get();
  assert.equal(r.status, 200);
  assert.equal(r.body.status, 'ok');

  stats = { ...stats, lastSuccessAt: new Date(NOW - 61_000).toISOString() };
  r = await get();
  assert.equal(r.status, 503);
  assert.equal(r.body.status, 'degraded');
  assert.equal(r.body.bufferedPoints, 3000);
  assert.equal(r.body.lastError, 'HTTP 503');

  stats = { ...stats, lastSuccessAt: null };
  assert.equal((await get()).body.status, 'degraded', 'never succeeded');

  assert.equal((await get('/nope')).status, 404);
  const post = await fetch(`http://127.0.0.1:${server.port}/health`, { method: 'POST' });
  await post.body?.cancel();
  assert.equal(post.status, 405);
});

test('binds to 127.0.0.1 by default; a port in use is a clear error; stats errors are 500', async (t) => {
  const first = await startHealthServer({
    port: 0,
    stats: () => {
      throw new Error('boom');
    },
  });
  t.after(() => first.close());
  const res = await fetch(`http://127.0.0.1:${first.port}/health`);
  assert.equal(res.status, 500);
  assert.match(String(((await res.json()) as { message: string }).message), /boom/);
  await assert.rejects(startHealthServer({ port: first.port, stats: base }), /cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
});

test('healthStatus rule', () => {
  assert.equal(healthStatus(base(), NOW), 'ok');
  assert.equal(healthStatus({ ...base(), consecutiveFailures: 1, lastSuccessAt: null }, NOW), 'degraded');
  assert.equal(healthStatus({ ...base(), consecutiveFailures: 1, lastSuccessAt: new Date(NOW - 60_000).toISOString() }, NOW), 'ok');
  assert.equal(healthStatus({ ...base(), consecutiveFailures: 1, lastSuccessAt: new Date(NOW - 60_001).toISOString() }, NOW), 'degraded');
  assert.equal(healthStatus({ ...base(), consecutiveFailures: 0, lastSuccessAt: null }, NOW), 'ok', 'nothing attempted yet');
});
