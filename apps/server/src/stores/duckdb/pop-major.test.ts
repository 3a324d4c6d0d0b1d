/**
 * Closed days re-laid POP-major (pop-major.ts), on a real DuckDB file: the rows of a closed
 * day end up together per POP (in physical order), the tables hold the same rows as before,
 * the answers do not change, a day with a dirty minute and the open day are left alone, a
 * file laid out time-major (from before) is migrated when the store opens on it again, and a
 * second run does nothing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ColdStartSample } from '@edgeworker/schema';
import { createDuckDbMetricsStore, type DuckDbMetricsStore } from './duckdb-metrics-store.ts';
import { sample } from '../metrics-store.contract.ts';
import { rolledUpStore, tempDir } from './test-store.ts';
import { createPopMajorLayout } from './pop-major.ts';
import { createSerialQueue } from './serial.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const D0 = Date.UTC(2026, 10, 24);
const T0 = D0 + 20 * HOUR; // day 0 from 20:00, days 1 and 2 whole, day 3 (open) until 07:17: its first quarter closed
const T1 = D0 + 3 * DAY + 7 * HOUR + 17 * MIN;
const NOW = T1 + 30_000;
const ns = (ms: number) => BigInt(ms) * 1_000_000n;
const POPS = ['FRA', 'AMS', 'NRT', "O'HARE"];
const FNS = ['ssr-render', 'auth-check'];
const dayOf = (ms: number) => Math.floor(ms / DAY);

function data(fromMs: number, toMs: number, stepMs = 2 * MIN): ColdStartSample[] {
  const out: ColdStartSample[] = [];
  let x = 777;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let t = fromMs; t < toMs; t += stepMs) {
    for (const [pi, popCode] of POPS.entries()) {
      for (const [fi, functionName] of FNS.entries()) {
        out.push(sample({ t: t + pi * 100 + fi * 10, v: (30 + pi * 50 + fi * 20) * Math.exp(rnd() - 0.5), popCode, functionName, city: popCode, latitude: 1, longitude: 1 }));
      }
    }
  }
  return out;
}

/** A table's rows of one day (or `hours` hours from the day's start plus `skip`) in physical (rowid) order: the POP of each row. */
async function physicalPops(dir: string, table: string, day: number, hours = 24, skip = 0): Promise<string[]> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(join(dir, 'copy.duckdb'));
  const c = await db.connect();
  try {
    const h0 = day * 24 + skip;
    const rows = (await c.runAndReadAll(`SELECT pop_code FROM ${table} WHERE t_ns // 3600000000000 >= ${h0} AND t_ns // 3600000000000 < ${h0 + hours} ORDER BY rowid`)).getRows();
    return rows.map((r) => String(r[0]));
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/** Every row of the rollup tables, sorted (the content, whatever its layout). */
async function content(dir: string): Promise<string> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(join(dir, 'copy.duckdb'));
  const c = await db.connect();
  try {
    const out: string[] = [];
    for (const t of ['rollup_pop_1h', 'rollup_1h']) {
      const rows = (await c.runAndReadAll(`SELECT * EXCLUDE (bins, counts), list_sort(list_zip(bins, counts))::VARCHAR FROM ${t} ORDER BY ALL`)).getRows();
      out.push(`${t}: ${JSON.stringify(rows, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`);
    }
    return out.join('\n');
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/** Copies the store's file (closed first) so it can be inspected by another instance, then reopens it. */
async function inspect<T>(dir: string, store: DuckDbMetricsStore, look: () => Promise<T>): Promise<T> {
  await store.close();
  const { copyFileSync } = await import('node:fs');
  copyFileSync(join(dir, 'metrics.duckdb'), join(dir, 'copy.duckdb'));
  return look();
}

const isGrouped = (pops: readonly string[]) => {
  const seen = new Set<string>();
  for (let i = 0; i < pops.length; i++) {
    if (i > 0 && pops[i] === pops[i - 1]) continue;
    if (seen.has(pops[i]!)) return false;
    seen.add(pops[i]!);
  }
  return true;
};

describe('closed days re-laid POP-major', () => {
  it('groups each closed clean day by POP without changing rows or answers; skips dirty and open days; migrates an old file; idempotent', async (t) => {
    const dir = tempDir(t, 'ewm-popmajor-');
    const all = data(T0, T1);
    const path = join(dir, 'metrics.duckdb');
    // As a file from before this layout: rolled up, never re-laid.
    let store: DuckDbMetricsStore = await rolledUpStore(t, dir, all, { now: NOW });
    // A late point in day 1 not yet rolled up: its minute stays dirty, so day 1 is left for later.
    await store.write([sample({ t: D0 + DAY + 7 * HOUR + 30_000, v: 99, popCode: 'AMS', functionName: 'ssr-render', city: 'AMS', latitude: 1, longitude: 1 })]);
    const week = { fromNs: ns(T0), toNs: ns(NOW) };
    const before = {
      series: await store.timeseries('NRT', { fromNs: ns(D0 + DAY), toNs: ns(NOW) }, HOUR),
      summary: await store.summarize(week, { popCode: 'AMS' }),
      fns: await store.byFunction('FRA', week),
      all: await store.summarize(week),
    };
    const old = await inspect(dir, store, async () => ({ content: await content(dir), day2: await physicalPops(dir, 'rollup_pop_1h', dayOf(D0) + 2) }));
    assert.equal(isGrouped(old.day2), false, 'rolled up time-major: every hour holds every POP');

    // The store opens on the old file and re-lays its closed days (here by hand, as the background loop does).
    store = await createDuckDbMetricsStore({ path, now: () => NOW, rollupDelayMs: 3_600_000, warmBlocksHours: 0, popMajorDelayMs: null });
    t.after(() => store.close());
    const days = await store.popMajor.runOnce();
    // Days 0 and 2 and day 3's first quarter of both tables; day 1 is dirty, day 3 still open.
    assert.equal(days, 6);
    assert.equal(await store.popMajor.runOnce(), 0, 'nothing left (day 1 still dirty)');
    const after = {
      series: await store.timeseries('NRT', { fromNs: ns(D0 + DAY), toNs: ns(NOW) }, HOUR),
      summary: await store.summarize(week, { popCode: 'AMS' }),
      fns: await store.byFunction('FRA', week),
      all: await store.summarize(week),
    };
    assert.deepEqual(after, before, 'the same answers');
    // The late point's minute is rolled up: day 1 is clean now and re-laid on the next run.
    await store.rollups.flush();
    assert.equal(await store.popMajor.runOnce(), 2);
    assert.equal(await store.popMajor.runOnce(), 0);
    const now = await inspect(dir, store, async () => ({
      content: await content(dir),
      days: await Promise.all([0, 1, 2, 3].map(async (d) => [await physicalPops(dir, 'rollup_pop_1h', dayOf(D0) + d), await physicalPops(dir, 'rollup_1h', dayOf(D0) + d)] as const)),
      quarter: [await physicalPops(dir, 'rollup_pop_1h', dayOf(D0) + 3, 6), await physicalPops(dir, 'rollup_1h', dayOf(D0) + 3, 6)],
      rest: await physicalPops(dir, 'rollup_pop_1h', dayOf(D0) + 3, 2, 6),
    }));
    assert.notEqual(now.content, old.content, 'the late point reached the rollups');
    for (const d of [0, 1, 2]) {
      for (const pops of now.days[d]!) {
        assert.ok(pops.length > 0);
        assert.ok(isGrouped(pops), `day ${d}: one run per POP`);
        assert.deepEqual(pops, [...pops].sort(), `day ${d}: POPs in order`);
      }
    }
    for (const pops of now.quarter) assert.ok(isGrouped(pops), 'the open day\'s closed quarter: one run per POP');
    assert.equal(isGrouped(now.rest), false, 'the open day\'s hours after it stay time-major');

    // The records survive a restart: a store opened again has nothing to do.
    store = await createDuckDbMetricsStore({ path, now: () => NOW, rollupDelayMs: 3_600_000, warmBlocksHours: 0, popMajorDelayMs: null });
    t.after(() => store.close());
    assert.equal(await store.popMajor.runOnce(), 0);
    await store.close();

    // Day 0's hours gone (as the retention sweep deletes them): its records go at the next listing, the others stay.
    const records = async () => {
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const db = await DuckDBInstance.create(path);
      const c = await db.connect();
      try {
        return (await c.runAndReadAll('SELECT table_name, from_hour // 24 AS day, hours FROM rollup_pop_major ORDER BY ALL')).getRows().map((r) => r.map(String).join(' '));
      } finally {
        c.closeSync();
        db.closeSync();
      }
    };
    {
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const db = await DuckDBInstance.create(path);
      const c = await db.connect();
      for (const table of ['rollup_pop_1h', 'rollup_1h']) await c.run(`DELETE FROM ${table} WHERE t_ns < ${ns(D0 + DAY)}`);
      c.closeSync();
      db.closeSync();
    }
    const day0 = String(dayOf(D0));
    assert.ok((await records()).some((r) => r.split(' ')[1] === day0));
    store = await createDuckDbMetricsStore({ path, now: () => NOW, rollupDelayMs: 3_600_000, warmBlocksHours: 0, popMajorDelayMs: null });
    t.after(() => store.close());
    assert.equal(await store.popMajor.runOnce(), 0);
    await store.close();
    const left = await records();
    assert.deepEqual(left.filter((r) => r.split(' ')[1] === day0), [], 'day 0\'s records went with its rows');
    assert.equal(left.length, 6, `days 1 and 2 and day 3's quarter of both tables: ${left.join(', ')}`);
  });

  it('leaves rows unchanged when re-laid in many chunks of POPs (content compared row by row)', async (t) => {
    const dir = tempDir(t, 'ewm-popmajor-');
    const all = data(T0, T1, 5 * MIN);
    const store: DuckDbMetricsStore = await rolledUpStore(t, dir, all, { now: NOW });
    const old = await inspect(dir, store, () => content(dir));
    // The layout alone on the store's file, in chunks of one or two POPs' rows.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(join(dir, 'metrics.duckdb'));
    const conn = await db.connect();
    try {
      const layout = await createPopMajorLayout({ conn, writeQueue: createSerialQueue(), isClosed: () => false, now: () => NOW, dirtyHours: new Map(), chunkRows: 30 });
      assert.equal(await layout.runOnce(), 8);
      assert.ok(layout.stats().chunks >= 6 * 2, `chunks: ${layout.stats().chunks}`);
      await conn.run('CHECKPOINT');
    } finally {
      conn.closeSync();
      db.closeSync();
    }
    const { copyFileSync } = await import('node:fs');
    copyFileSync(join(dir, 'metrics.duckdb'), join(dir, 'copy.duckdb'));
    assert.equal(await content(dir), old);
    for (const d of [0, 1, 2]) for (const table of ['rollup_pop_1h', 'rollup_1h']) assert.ok(isGrouped(await physicalPops(dir, table, dayOf(D0) + d)), `${table} day ${d}`);
  });
});
