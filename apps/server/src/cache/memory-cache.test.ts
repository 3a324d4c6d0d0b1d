import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CacheEntry } from './cache.ts';
import { createMemoryCache } from './memory-cache.ts';

/** An entry whose value's JSON is about `bytes` long. */
const sized = (bytes: number, version = 1): CacheEntry<string[]> => {
  const value = ['x'.repeat(Math.max(0, bytes - 6))];
  return { value, version, computedAt: 0, json: Buffer.from(JSON.stringify(value)) };
};

describe('memory cache byte bound (issue 15: H1)', () => {
  it('keeps at most maxBytes, dropping the least recently used first', async () => {
    const cache = createMemoryCache({ maxBytes: 100_000, maxEntryBytes: 50_000 });
    for (let i = 0; i < 10; i++) await cache.set(`k${i}`, sized(20_000), 60_000);
    assert.ok(cache.bytes() <= 100_000, `${cache.bytes()} bytes`);
    assert.equal(cache.size(), 4);
    assert.equal(await cache.get('k0'), undefined, 'the oldest went first');
    assert.ok(await cache.get('k9'));
    // Reading k6 makes it recent: the next insert evicts k7 instead.
    assert.ok(await cache.get('k6'));
    await cache.set('k10', sized(20_000), 60_000);
    assert.ok(await cache.get('k6'));
    assert.equal(await cache.get('k7'), undefined);
  });

  it('does not keep an answer larger than maxEntryBytes, nor an older copy of it', async () => {
    const cache = createMemoryCache({ maxBytes: 100_000, maxEntryBytes: 10_000 });
    await cache.set('heatmap', sized(5_000, 1), 60_000);
    await cache.set('other', sized(5_000, 1), 60_000);
    await cache.set('heatmap', sized(20_000, 2), 60_000);
    assert.equal(await cache.get('heatmap'), undefined);
    assert.ok(await cache.get('other'), 'the others stay');
    assert.ok(cache.bytes() < 10_000);
  });

  it('sizes an entry without a precomputed body by its JSON', async () => {
    const cache = createMemoryCache({ maxBytes: 1_000_000 });
    await cache.set('a', { value: { s: 'é'.repeat(1000) }, version: 1, computedAt: 0 }, 60_000);
    assert.ok(cache.bytes() >= 2000, 'two UTF-8 bytes per é');
  });
});
