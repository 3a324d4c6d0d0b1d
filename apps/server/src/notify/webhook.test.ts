import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert } from '@edgeworker/schema';
import { createWebhookChannel } from './webhook.ts';
import { PermanentError, RetryLaterError, withRetry, type RetryPolicy } from './retry.ts';
import { sampleAlert, startHttpReceiver } from './test-receivers.ts';
import { freePort } from '../testing/free-port.ts';

const fast: RetryPolicy = { attempts: 3, initialDelayMs: 10, maxDelayMs: 50, timeoutMs: 2000 };
const message = { event: 'opened' as const, alert: sampleAlert(), dashboardUrl: 'http://127.0.0.1:8080/?pop=FRA&function=ssr-render' };

test('POSTs {event, alert, dashboardUrl} as JSON; a 2xx is delivered', async (t) => {
  const receiver = await startHttpReceiver(t, () => ({ status: 202 }));
  const channel = createWebhookChannel({ url: receiver.url });
  const r = await withRetry((signal) => channel.send(message, signal), fast);
  assert.deepEqual(r, { ok: true, attempts: 1 });
  const body = JSON.parse(receiver.requests[0]!.body) as { event: string; alert: Alert; dashboardUrl: string };
  assert.equal(body.event, 'opened');
  assert.deepEqual(body.alert, sampleAlert());
  assert.equal(body.dashboardUrl, message.dashboardUrl);
});

test('a 400 is permanent: one request only, the error carries the status and the receiver’s reason', async (t) => {
  const receiver = await startHttpReceiver(t, () => ({ status: 400, body: 'unknown field "alert"' }));
  const channel = createWebhookChannel({ url: receiver.url });
  const r = await withRetry((signal) => channel.send(message, signal), fast);
  assert.equal(r.ok, false);
  assert.equal(r.attempts, 1);
  assert.match(r.error ?? '', /HTTP 400: unknown field "alert"/);
  assert.equal(receiver.requests.length, 1);
});

test('5xx is retried until the receiver recovers', async (t) => {
  const receiver = await startHttpReceiver(t, (_req, i) => (i < 2 ? { status: 503, body: 'warming up' } : { status: 200 }));
  const channel = createWebhookChannel({ url: receiver.url });
  const r = await withRetry((signal) => channel.send(message, signal), fast);
  assert.deepEqual(r, { ok: true, attempts: 3 });
  assert.equal(receiver.requests.length, 3);
});

test('408 and 429 are retried (not permanent); Retry-After is read', async (t) => {
  const receiver = await startHttpReceiver(t, (_req, i) => (i === 0 ? { status: 429, headers: { 'retry-after': '0' } } : i === 1 ? { status: 408 } : { status: 204 }));
  const channel = createWebhookChannel({ url: receiver.url });
  const first = await channel.send(message, AbortSignal.timeout(2000)).catch((e: Error) => e);
  assert.ok(first instanceof RetryLaterError && !(first instanceof PermanentError));
  assert.equal(first.retryAfterMs, 0);
  const r = await withRetry((signal) => channel.send(message, signal), fast);
  assert.deepEqual(r, { ok: true, attempts: 2 });
});

test('a receiver that never answers is cut off at the per-attempt time limit', async (t) => {
  const receiver = await startHttpReceiver(t, () => 'hang');
  const channel = createWebhookChannel({ url: receiver.url });
  const started = Date.now();
  const r = await withRetry((signal) => channel.send(message, signal), { ...fast, attempts: 2, timeoutMs: 150 });
  assert.equal(r.ok, false);
  assert.equal(r.attempts, 2);
  assert.equal(r.error, 'timed out after 150 ms');
  assert.equal(receiver.requests.length, 2);
  assert.ok(Date.now() - started < 2000);
});

test('connection refused is retried and reported with its cause', async () => {
  const port = await freePort(); // nothing listens there
  const channel = createWebhookChannel({ url: `http://127.0.0.1:${port}/hook` });
  const r = await withRetry((signal) => channel.send(message, signal), fast);
  assert.equal(r.ok, false);
  assert.equal(r.attempts, 3);
  assert.match(r.error ?? '', new RegExp(`POST to http://127.0.0.1:${port} failed: connect ECONNREFUSED`));
});
