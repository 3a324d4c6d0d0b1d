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
  ]) {
    assert.equal(parseServerMessage(raw), null, raw);
  }
  assert.equal(parseServerMessage(new ArrayBuffer(4)), null);
});

test('the socket URL follows the page protocol and host', () => {
  assert.equal(liveSocketUrl({ protocol: 'http:', host: 'localhost:8080' } as Location), 'ws://localhost:8080/ws');
  assert.equal(liveSocketUrl({ protocol: 'https:', host: 'mon.example.com' } as Location), 'wss://mon.example.com/ws');
});
