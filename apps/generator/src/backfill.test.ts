import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FUNCTIONS, POPS } from '@edgeworker/pops';
import type { ColdStartSample } from '@edgeworker/schema';
import { createBackfill } from './backfill.ts';
import { createBufferedWriter } from './buffered-writer.ts';
import { RetriableWriteError } from './errors.ts';
import { createLatencyModel } from './model.ts';

test('a backfill waits for a slow, failing target instead of dropping or piling up samples', async () => {
  const got: ColdStartSample[] = [];
  let calls = 0;
  let maxBuffered = 0;
  const writer = createBufferedWriter({
    send: async (samples) => {
      calls++;
      if (calls % 4 === 0) throw new RetriableWriteError('HTTP 503: busy'); // every fourth request fails once
      await new Promise((r) => setTimeout(r, 2));
      got.push(...samples);
    },
    maxBufferedPoints: 100_000,
    maxBatchPoints: 1000,
    backoff: { initialMs: 1, maxMs: 5 },
  });
  const pops = POPS.slice(0, 20);
  const now = 1_800_000_000_000;
  const bf = createBackfill({
    pops, functions: FUNCTIONS, intervalMs: 10_000, model: createLatencyModel({ seed: 1 }),
    fromMs: now - 3_600_000, now: () => now, writer, highWaterPoints: 3000,
  });
  const probe = setInterval(() => (maxBuffered = Math.max(maxBuffered, writer.stats().bufferedPoints)), 1);
  const r = await bf.run();
  clearInterval(probe);
  await writer.close();
  assert.equal(r.completed, true);
  assert.equal(r.ticks, 360);
  assert.equal(r.nextMs, now);
  assert.equal(got.length, 360 * 20 * FUNCTIONS.length);
  assert.equal(new Set(got.map((s) => `${s.popCode}/${s.functionName}/${s.timeNs}`)).size, got.length, 'each sample once');
  assert.ok(maxBuffered <= 3000 + 20 * FUNCTIONS.length, `buffered up to ${maxBuffered}`);
  assert.equal(writer.stats().droppedPoints, 0);
});

test('a backfill stops when aborted', async () => {
  const writer = createBufferedWriter({ send: () => new Promise((r) => setTimeout(r, 5)), maxBatchPoints: 100 });
  const abort = new AbortController();
  const bf = createBackfill({
    pops: POPS.slice(0, 5), functions: FUNCTIONS, intervalMs: 1000, model: createLatencyModel({ seed: 1 }),
    fromMs: Date.now() - 86_400_000, writer, highWaterPoints: 200, signal: abort.signal,
  });
  const running = bf.run();
  setTimeout(() => abort.abort(), 50);
  const r = await running;
  await writer.close();
  assert.equal(r.completed, false);
  assert.ok(r.ticks < 86_400, `${r.ticks} ticks`);
});
