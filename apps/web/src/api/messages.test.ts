/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { liveSocketUrl, parseServerMessage } from './messages.ts';

const overview = {
  totalPops: 3,
  healthyPops: 2,
  warningPops: 1,
  criticalPops: 0,
  noDataPops: 0,
  averageColdStart: 120.5,
  p50: 100,
  p95: 200,
  p99: 300,
  samples: 42,
  regressions: 1,
  window: '5m',
  thresholds: { warnMs: 200, critMs: 400 },
  latestSampleAt: null,
  updatedAt: '2024-01-01T00:00:00Z',
};

test('hello and metrics_update are parsed', () => {
  const hello = parseServerMessage(JSON.stringify({ type: 'hello', data: { serverTime: 'x', overview } }));
  assert.equal(hello?.type, 'hello');
  const update = parseServerMessage(JSON.stringify({ type: 'metrics_update', data: overview }));
  assert.deepEqual(update, { type: 'metrics_update', data: overview });
});

test('heartbeat is parsed, and hello carries the heartbeat interval when the server says one', () => {
  assert.deepEqual(parseServerMessage(JSON.stringify({ type: 'heartbeat', data: { serverTime: 't', intervalMs: 5000 } })), {
    type: 'heartbeat',
    data: { serverTime: 't', intervalMs: 5000 },
  });
  const hello = parseServerMessage(JSON.stringify({ type: 'hello', data: { serverTime: 'x', overview, heartbeatIntervalMs: 5000 } }));
  assert.equal(hello?.type === 'hello' && hello.data.heartbeatIntervalMs, 5000);
  // a server from before heartbeats: no interval, and the watchdog stands down
  const old = parseServerMessage(JSON.stringify({ type: 'hello', data: { serverTime: 'x', overview } }));
  assert.ok(old?.type === 'hello' && !('heartbeatIntervalMs' in old.data));
  for (const bad of [0, -1, '5000', null]) {
    assert.equal(parseServerMessage(JSON.stringify({ type: 'heartbeat', data: { intervalMs: bad } })), null, String(bad));
    const h = parseServerMessage(JSON.stringify({ type: 'hello', data: { serverTime: 'x', overview, heartbeatIntervalMs: bad } }));
    assert.ok(h?.type === 'hello' && !('heartbeatIntervalMs' in h.data), `hello with heartbeatIntervalMs ${String(bad)}`);
  }
});

test('alert messages are parsed when they carry an alert', () => {
  const alert = {
    id: 'a1',
    type: 'regression',
    popCode: 'FRA',
    functionName: 'ssr-render',
    severity: 'critical',
    status: 'open',
    baselineMs: 100,
    currentMs: 300,
    changePct: 200,
    createdAt: '2024-01-01T00:00:00Z',
    updatedAt: '2024-01-01T00:00:00Z',
    notifications: [],
  };
  assert.deepEqual(parseServerMessage(JSON.stringify({ type: 'alert', data: alert })), { type: 'alert', data: alert });
  assert.equal(parseServerMessage(JSON.stringify({ type: 'alert', data: { ...alert, status: 'snoozed' } })), null);
});

test('malformed and unknown messages yield null instead of throwing', () => {
  for (const raw of [
    'not json',
    '',
    'null',
    '42',
    '[]',
    JSON.stringify({ type: 'alert', data: { id: 'a1' } }),
    JSON.stringify({ type: 'metrics_update' }),
    JSON.stringify({ type: 'metrics_update', data: null }),
    JSON.stringify({ type: 'metrics_update', data: { totalPops: '3' } }),
    JSON.stringify({ type: 'hello', data: {} }),
    JSON.stringify({ type: 'heartbeat' }),
    // a type from a newer server: ignored (the page's watchdog still counts it as a sign of life)
    JSON.stringify({ type: 'maintenance', data: {} }),
  ]) {
    assert.equal(parseServerMessage(raw), null, raw);
  }
  assert.equal(parseServerMessage(new ArrayBuffer(4)), null);
});

test('the socket URL follows the page protocol and host', () => {
  assert.equal(liveSocketUrl({ protocol: 'http:', host: 'localhost:8080' } as Location), 'ws://localhost:8080/ws');
  assert.equal(liveSocketUrl({ protocol: 'https:', host: 'mon.example.com' } as Location), 'wss://mon.example.com/ws');
});
