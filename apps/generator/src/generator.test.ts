import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FUNCTIONS, POPS } from '@edgeworker/pops';
import type { ColdStartSample } from '@edgeworker/schema';
import { createGenerator } from './generator.ts';
import { createLatencyModel } from './model.ts';
import { captureLogger } from './testing.ts';

const T0 = Date.UTC(2025, 0, 1, 0, 0, 0);

test('tick: one sample per POP x function, catalog facts copied, passed to onBatch and returned', () => {
  const batches: ColdStartSample[][] = [];
  const gen = createGenerator({
    pops: POPS,
    functions: FUNCTIONS,
    intervalMs: 10_000,
    model: createLatencyModel({ seed: 1 }),
    now: () => T0,
    onBatch: (b) => batches.push(b),
  });
  const batch = gen.tick();
  assert.equal(batches.length, 1);
  assert.equal(batches[0], batch);
  assert.equal(batch.length, POPS.length * FUNCTIONS.length);
  assert.ok(POPS.length >= 250);
  const keys = new Set(batch.map((s) => `${s.popCode}/${s.functionName}`));
  assert.equal(keys.size, batch.length, 'each series exactly once');
  const fra = batch.find((s) => s.popCode === 'FRA' && s.functionName === 'ssr-render');
  const pop = POPS.find((p) => p.code === 'FRA')!;
  assert.ok(fra);
  assert.deepEqual(
    { city: fra.city, country: fra.country, tier: fra.tier, latitude: fra.latitude, longitude: fra.longitude, timeNs: fra.timeNs },
    { city: pop.city, country: pop.country, tier: pop.tier, latitude: pop.lat, longitude: pop.lon, timeNs: BigInt(T0) * 1_000_000n },
  );
  for (const s of batch) assert.ok(Number.isFinite(s.coldStartTimeMs) && s.coldStartTimeMs > 0);
});

test('timestamps of a series never repeat, even with a frozen or backwards clock', () => {
  const clock = [T0, T0, T0, T0 - 5000, T0 + 1];
  let i = 0;
  const gen = createGenerator({
    pops: POPS.slice(0, 3),
    functions: FUNCTIONS,
    intervalMs: 1000,
    model: createLatencyModel({ seed: 1 }),
    now: () => clock[Math.min(i++, clock.length - 1)]!,
    onBatch: () => undefined,
  });
  const seen = new Set<string>();
  for (let k = 0; k < clock.length; k++) {
    for (const s of gen.tick()) {
      const key = `${s.popCode}/${s.functionName}/${s.timeNs}`;
      assert.ok(!seen.has(key), `duplicate ${key}`);
      seen.add(key);
      // whole milliseconds, so precision=ms cannot merge two ticks either
      assert.equal(s.timeNs % 1_000_000n, 0n);
    }
  }
});

test('schedule follows the start time: slow ticks do not accumulate drift, missed ticks are skipped', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let clock = T0;
  const tickTimes: number[] = [];
  const gen = createGenerator({
    pops: POPS.slice(0, 2),
    functions: FUNCTIONS.slice(0, 1),
    intervalMs: 1000,
    model: createLatencyModel({ seed: 1 }),
    now: () => clock,
    onBatch: (b) => {
      tickTimes.push(Number(b[0]!.timeNs / 1_000_000n));
      clock += 7; // each tick "takes" 7 ms: a naive setTimeout(interval) chain would drift 7 ms per tick
    },
  });
  t.after(() => gen.stop());
  gen.start();
  const advance = (ms: number) => {
    // Move the fake wall clock and the mocked timers together, 1 ms at a time.
    for (let k = 0; k < ms; k++) {
      clock += 1;
      t.mock.timers.tick(1);
    }
  };
  advance(5000);
  assert.deepEqual(tickTimes.map((x) => x - T0), [0, 1000, 2000, 3000, 4000, 5000]);
  // The event loop freezes for 3.5 intervals (laptop sleep): the overdue timer fires once
  // late, then ticks return to the start-time grid; the missed ticks are not replayed.
  const before = tickTimes.length;
  clock += 3500;
  advance(2000);
  const after = tickTimes.slice(before).map((x) => x - T0);
  assert.deepEqual(after, [9500, 10000]);
});

test('a throwing onBatch is logged and the schedule goes on; stop() inside onBatch is honoured', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let clock = T0;
  let calls = 0;
  const { log, records } = captureLogger();
  const gen = createGenerator({
    pops: POPS.slice(0, 1),
    functions: FUNCTIONS.slice(0, 1),
    intervalMs: 100,
    model: createLatencyModel({ seed: 1 }),
    now: () => clock,
    log,
    onBatch: () => {
      calls += 1;
      if (calls === 1) throw new Error('consumer broke');
      if (calls === 3) gen.stop();
    },
  });
  t.after(() => gen.stop());
  gen.start();
  for (let k = 0; k < 1000; k++) {
    clock += 1;
    t.mock.timers.tick(1);
  }
  assert.equal(calls, 3);
  assert.ok(records.some((r) => r.level === 50 && /tick failed/.test(r.msg)));
});

test('rejects a non-positive interval', () => {
  assert.throws(
    () => createGenerator({ pops: [], functions: [], intervalMs: 0, model: createLatencyModel({ seed: 1 }), onBatch: () => undefined }),
    /intervalMs/,
  );
});
