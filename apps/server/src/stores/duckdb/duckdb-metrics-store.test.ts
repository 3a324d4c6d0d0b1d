import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDuckDbMetricsStore } from './duckdb-metrics-store.ts';
import { metricsStoreContract, sample } from '../metrics-store.contract.ts';
import type { MetricsStore } from '../metrics-store.ts';

function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'ewm-duckdb-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const dirs: Array<() => void> = [];
process.on('exit', () => dirs.forEach((c) => c()));

const pathOf = new WeakMap<MetricsStore, string>();
metricsStoreContract('duckdb (file)', async () => {
  const { dir, cleanup } = tempDir();
  dirs.push(cleanup);
  const path = join(dir, 'metrics.duckdb');
  const store = await createDuckDbMetricsStore({ path });
  pathOf.set(store, path);
  return store;
}, {
  reopen: async (store) => {
    const path = pathOf.get(store)!;
    await store.close();
    const again = await createDuckDbMetricsStore({ path });
    pathOf.set(again, path);
    return again;
  },
});

describe('DuckDB metrics store', () => {
  it('keeps its data across a close and reopen of the same file', async (t) => {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const path = join(dir, 'metrics.duckdb');
    const first = await createDuckDbMetricsStore({ path });
    await first.write([sample({ t: 1_000, v: 42, popCode: 'NEW', city: 'Newtown', latitude: 10, longitude: 20 })]);
    await first.close();

    const second = await createDuckDbMetricsStore({ path });
    t.after(() => second.close());
    const s = await second.summarize({ fromNs: 0n, toNs: 10_000_000_000n });
    assert.equal(s.overall.samples, 1);
    assert.equal(s.overall.mean, 42);
    assert.deepEqual((await second.seenPops()).map((p) => p.popCode), ['NEW']);
    assert.equal(await second.latestSampleNs(), 1_000_000_000n);
  });

  it('stores all of a batch or none of it', async (t) => {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const store = await createDuckDbMetricsStore({ path: join(dir, 'metrics.duckdb') });
    t.after(() => store.close());
    const good = sample({ t: 1_000, v: 1 });
    // A timestamp beyond BIGINT makes the appender fail half-way through the batch.
    const bad = { ...sample({ t: 2_000, v: 2 }), timeNs: 2n ** 70n };
    await assert.rejects(store.write([good, good, bad]));
    assert.equal((await store.summarize({ fromNs: 0n, toNs: 10n ** 15n })).overall.samples, 0);
    assert.deepEqual(await store.seenPops(), []);
    await store.write([good]);
    assert.equal((await store.summarize({ fromNs: 0n, toNs: 10n ** 15n })).overall.samples, 1);
  });

  it('names the file when it cannot be opened', async (t) => {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const path = join(dir, 'metrics.duckdb');
    const holder = await createDuckDbMetricsStore({ path });
    t.after(() => holder.close());
    // A directory where the database file should be makes opening fail on any machine.
    await assert.rejects(createDuckDbMetricsStore({ path: dir }), (err: Error) => err.message.includes(dir));
  });
});
