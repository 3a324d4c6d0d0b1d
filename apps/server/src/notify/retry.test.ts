import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, PermanentError, RetryLaterError, withRetry, type RetryPolicy } from './retry.ts';

const fast: RetryPolicy = { attempts: 4, initialDelayMs: 10, maxDelayMs: 40, timeoutMs: 500 };

test('backoff doubles its cap per attempt, stays under maxDelayMs, and honours Retry-After up to the cap', () => {
  const p: RetryPolicy = { attempts: 10, initialDelayMs: 100, maxDelayMs: 1000, timeoutMs: 1 };
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffDelay(n, p, () => 0.999999)), [99, 199, 399, 799, 999]);
  assert.equal(backoffDelay(3, p, () => 0), 0, 'full jitter reaches zero');
  assert.equal(backoffDelay(1, p, () => 7), 100, 'a random() out of [0,1] is clamped');
  assert.equal(backoffDelay(1, p, () => 0, 300), 300, 'Retry-After raises the delay');
  assert.equal(backoffDelay(1, p, () => 0, 60_000), 1000, 'but never beyond maxDelayMs');
});

test('a transient failure is retried until it succeeds; attempts are counted', async () => {
  let calls = 0;
  const r = await withRetry(async () => {
    calls++;
    if (calls < 3) throw new Error(`boom ${calls}`);
  }, fast);
  assert.deepEqual(r, { ok: true, attempts: 3 });
});

test('attempts run out: ok false with the last error message', async () => {
  let calls = 0;
  const r = await withRetry(async () => {
    calls++;
    throw new Error(`boom ${calls}`);
  }, fast);
  assert.deepEqual(r, { ok: false, attempts: 4, error: 'boom 4' });
  assert.equal(calls, 4);
});

test('a permanent error stops at once', async () => {
  let calls = 0;
  const r = await withRetry(async () => {
    calls++;
    throw new PermanentError('HTTP 400: bad payload');
  }, fast);
  assert.deepEqual(r, { ok: false, attempts: 1, error: 'HTTP 400: bad payload' });
  assert.equal(calls, 1);
});

test('an attempt that ignores its signal is abandoned at the time limit and retried', async () => {
  const signals: AbortSignal[] = [];
  const started = Date.now();
  const r = await withRetry((signal) => {
    signals.push(signal);
    return new Promise<void>(() => {}); // never settles
  }, { ...fast, attempts: 2, timeoutMs: 80 });
  const elapsed = Date.now() - started;
  assert.equal(r.ok, false);
  assert.equal(r.attempts, 2);
  assert.equal(r.error, 'timed out after 80 ms');
  assert.ok(signals.every((s) => s.aborted), 'each attempt was told to stop');
  assert.ok(elapsed >= 160 && elapsed < 1500, `two 80 ms attempts plus one short backoff, took ${elapsed} ms`);
});

test('Retry-After from the receiver sets the wait before the next attempt', async () => {
  const times: number[] = [];
  const r = await withRetry(async () => {
    times.push(Date.now());
    if (times.length === 1) throw new RetryLaterError('HTTP 429', 150);
  }, { ...fast, maxDelayMs: 1000 }, { random: () => 0 });
  assert.equal(r.ok, true);
  const gap = times[1]! - times[0]!;
  assert.ok(gap >= 140, `waited ${gap} ms, the receiver asked for 150`);
});

test('stop ends a waiting backoff at once and starts no new attempt', async () => {
  const stop = new AbortController();
  let calls = 0;
  const started = Date.now();
  const pending = withRetry(async () => {
    calls++;
    throw new Error('down');
  }, { attempts: 5, initialDelayMs: 10_000, maxDelayMs: 10_000, timeoutMs: 1000 }, { random: () => 1, stop: stop.signal });
  setTimeout(() => stop.abort(), 50);
  const r = await pending;
  assert.equal(calls, 1);
  assert.equal(r.ok, false);
  assert.match(r.error ?? '', /down; gave up: notifier closed/);
  assert.ok(Date.now() - started < 2000, 'did not wait out the 10 s backoff');
});
