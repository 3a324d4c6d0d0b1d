import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createDuckDbMetricsStore } from './duckdb/duckdb-metrics-store.ts';
import { BreakerOpenError, createResilientMetricsStore, type BreakerState } from './resilient-metrics-store.ts';
import { sample } from './metrics-store.contract.ts';
import { wrapMetricsStore } from './metrics-store.ts';
import { InfluxError } from './influxdb/influx-client.ts';
import { switchable } from '../testing/switchable-store.ts';

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  let clock = 1_000_000;
  const inner = switchable(await createDuckDbMetricsStore({ path: ':memory:' }));
  const states: BreakerState[] = [];
  const store = createResilientMetricsStore(inner, {
    failureThreshold: 3,
    baseBackoffMs: 1000,
    maxBackoffMs: 8000,
    now: () => clock,
    random: () => 1, // the full backoff, so the test knows when the next probe is due
    onStateChange: (s) => states.push(s),
  });
  t.after(() => store.close());
  return { inner, store, states, advance: (ms: number) => (clock += ms) };
}

describe('resilient metrics store (circuit breaker)', () => {
  it('passes calls through while the store answers', async (t) => {
    const { store, inner } = await setup(t);
    await store.write([sample({ t: 1000, v: 5 })]);
    assert.equal((await store.summarize({ fromNs: 0n, toNs: 10n ** 13n })).overall.samples, 1);
    assert.equal(inner.calls, 2);
    assert.equal(store.breaker().state, 'closed');
  });

  it('opens after consecutive failures, then fails fast without touching the store', async (t) => {
    const { store, inner, states } = await setup(t);
    inner.down = true;
    for (let i = 0; i < 3; i++) await assert.rejects(store.ping(), /ECONNREFUSED/);
    assert.equal(store.breaker().state, 'open');
    assert.deepEqual(states, ['open']);
    const before = inner.calls;
    await assert.rejects(store.summarize({ fromNs: 0n, toNs: 1n }), (err: Error) => err instanceof BreakerOpenError && /unreachable \(connect ECONNREFUSED.*next reconnection attempt in 1000 ms/.test(err.message));
    assert.equal(inner.calls, before, 'an open breaker does not call the store');
  });

  it('probes with exponential backoff and closes by itself when the store is back', async (t) => {
    const { store, inner, states, advance } = await setup(t);
    inner.down = true;
    for (let i = 0; i < 3; i++) await assert.rejects(store.ping());
    advance(1000);
    await assert.rejects(store.ping(), BreakerOpenError); // half-open probe fails
    assert.equal(store.breaker().state, 'open');
    assert.equal(store.breaker().nextProbeAt! - 1_001_000, 2000, 'the backoff doubled');
    advance(1999);
    await assert.rejects(store.ping(), /next reconnection attempt in 1 ms/);
    advance(1);
    inner.down = false;
    await store.latestSampleNs();
    assert.equal(store.breaker().state, 'closed');
    assert.deepEqual(states, ['open', 'half_open', 'open', 'half_open', 'closed']);
    assert.equal(store.breaker().consecutiveFailures, 0);
  });

  it('lets one probe through when many callers arrive at once', async (t) => {
    const { store, inner, advance } = await setup(t);
    inner.down = true;
    for (let i = 0; i < 3; i++) await assert.rejects(store.ping());
    advance(1000);
    inner.down = false;
    const before = inner.calls;
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => store.latestSampleNs()));
    assert.ok(results.every((r) => r.status === 'fulfilled'));
    assert.equal(inner.calls - before, 11, 'one ping, then the ten calls');
  });

  it('keeps failing queries from refusing writes: reads and writes have their own breaker', async (t) => {
    // A real store whose queries time out (as a heavy InfluxDB query does) while writes still land.
    let clock = 1_000_000;
    const real = await createDuckDbMetricsStore({ path: ':memory:' });
    const slowQueries = wrapMetricsStore(real, (name, fn) => async (...args) => {
      if (name === 'summarize') throw new InfluxError('timeout', 'InfluxDB did not answer a query within 5000 ms');
      return fn(...args);
    });
    const store = createResilientMetricsStore(slowQueries, { failureThreshold: 3, now: () => clock });
    t.after(() => store.close());
    for (let i = 0; i < 5; i++) await assert.rejects(store.summarize({ fromNs: 0n, toNs: 1n }));
    assert.equal(store.breakers().reads.state, 'open');
    await store.write([sample({ t: 1000, v: 5 })]);
    assert.equal(store.breakers().writes.state, 'closed');
    clock += 60_000;
    assert.equal(await store.latestSampleNs(), 1000n * 1_000_000n, 'the read breaker recovers through its probe');
  });

  it('does not count a statement the store rejects as malformed: that is not an outage', async (t) => {
    const real = await createDuckDbMetricsStore({ path: ':memory:' });
    let calls = 0;
    const rejecting = wrapMetricsStore(real, (name, fn) => async (...args) => {
      if (name === 'timeseries') {
        calls++;
        throw new InfluxError('query', 'InfluxDB rejected a query: error parsing query: found \\n, expected identifier');
      }
      return fn(...args);
    });
    const store = createResilientMetricsStore(rejecting, { failureThreshold: 3 });
    t.after(() => store.close());
    for (let i = 0; i < 10; i++) await assert.rejects(store.timeseries('FRA', { fromNs: 0n, toNs: 1n }, 1000), /rejected a query/);
    assert.equal(calls, 10, 'every call reached the store: nothing failed fast');
    assert.equal(store.breaker().state, 'closed');
    assert.equal(store.breaker().consecutiveFailures, 0);
  });
});
