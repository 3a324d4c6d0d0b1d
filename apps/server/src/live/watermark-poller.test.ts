import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createDuckDbMetricsStore } from '../stores/duckdb/duckdb-metrics-store.ts';
import { sample } from '../stores/metrics-store.contract.ts';
import { createLocalBus, type BusEvent } from '../events.ts';
import { startWatermarkPoller } from './watermark-poller.ts';
import { switchable } from '../testing/switchable-store.ts';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);

describe('watermark poller', () => {
  it('announces data that reached the store without passing through the bus, once', async (t) => {
    const store = switchable(await createDuckDbMetricsStore({ path: ':memory:' }));
    t.after(() => store.close());
    const bus = createLocalBus();
    const seen: BusEvent[] = [];
    bus.subscribe((e) => seen.push(e));
    await store.write([sample({ t: T0, v: 1 })]);
    const poller = startWatermarkPoller({ store, bus, intervalMs: 60_000 });
    t.after(() => poller.stop());
    assert.equal(await poller.prime(5000), true); // the starting point is not news
    await poller.poll();
    assert.equal(seen.length, 0);
    await store.write([sample({ t: T0 + 1000, v: 1 })]); // "another client"
    await poller.poll();
    await poller.poll();
    assert.deepEqual(seen, [{ type: 'data_landed', points: 0, latestMs: T0 + 1000 }]);
    // The server's own ingest announces its data itself: the poller stays quiet.
    await store.write([sample({ t: T0 + 2000, v: 1 })]);
    bus.publish({ type: 'data_landed', points: 1, latestMs: T0 + 2000 });
    await poller.poll();
    assert.equal(seen.length, 2);
  });

  it('keeps polling through an outage', async (t) => {
    const store = switchable(await createDuckDbMetricsStore({ path: ':memory:' }));
    t.after(() => store.close());
    const bus = createLocalBus();
    const seen: BusEvent[] = [];
    bus.subscribe((e) => seen.push(e));
    const poller = startWatermarkPoller({ store, bus, intervalMs: 60_000 });
    t.after(() => poller.stop());
    await store.write([sample({ t: T0, v: 1 })]);
    await poller.prime(5000);
    await poller.poll();
    store.down = true;
    await poller.poll();
    store.down = false;
    await store.write([sample({ t: T0 + 5000, v: 1 })]);
    await poller.poll();
    assert.equal(seen.length, 1);
  });

  it('without a starting point taken before serving, the first answer is news', async (t) => {
    const store = switchable(await createDuckDbMetricsStore({ path: ':memory:' }));
    t.after(() => store.close());
    const bus = createLocalBus();
    const seen: BusEvent[] = [];
    bus.subscribe((e) => seen.push(e));
    const poller = startWatermarkPoller({ store, bus, intervalMs: 60_000 });
    t.after(() => poller.stop());
    store.down = true;
    assert.equal(await poller.prime(5000), false);
    store.down = false;
    // Written while the server was already answering (and caching) without a starting point.
    await store.write([sample({ t: T0, v: 1 })]);
    await poller.poll();
    assert.deepEqual(seen, [{ type: 'data_landed', points: 0, latestMs: T0 }]);
    await poller.poll();
    assert.equal(seen.length, 1);
  });
});
