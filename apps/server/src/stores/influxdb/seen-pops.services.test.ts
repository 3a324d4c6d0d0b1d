/**
 * The seen-POPs catalog on a real influxd (issue 15, H3): many POPs written straight
 * into InfluxDB by another client are found without the all-time four-tag query on
 * the request path; while the catalog cannot be read, answers still come (the
 * catalog so far), never a failure.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MEASUREMENT } from '@edgeworker/schema';
import { useInfluxdForFile } from '../../testing/influxd.ts';
import { waitFor } from '../../testing/wait.ts';
import { createInfluxDbMetricsStore } from './influxdb-metrics-store.ts';
import { createInfluxClient } from './influx-client.ts';
import { createSeenPops } from './seen-pops.ts';

const influxd = useInfluxdForFile();

function lines(from: number, count: number, tMs: number, city = 'C') {
  const out: string[] = [];
  for (let k = from; k < from + count; k++) {
    out.push(`${MEASUREMENT},pop_code=Q${k},city=${city}${k},country=XX,tier=3,function_name=api cold_start_time_ms=100,latitude=${k % 80},longitude=${k % 170} ${BigInt(tMs + k) * 1_000_000n}`);
  }
  return out.join('\n');
}

describe('seen POPs on InfluxDB', () => {
  it('finds thousands of POPs written by another client, by name, and keeps newest metadata', async () => {
    const db = 'seen_many';
    await influxd().createDatabase(db);
    const other = createInfluxClient({ url: influxd().url, db, timeoutMs: 30_000 });
    const t = Date.now() - 3_600_000;
    await other.writeLines(lines(0, 3000, t));
    const store = await createInfluxDbMetricsStore({ url: influxd().url, db, timeoutMs: 5000, seenPopsWaitMs: 20_000 });
    const first = await store.seenPops();
    assert.equal(first.length, 3000);
    assert.deepEqual({ ...first.find((p) => p.popCode === 'Q42'), lastSeenNs: 0n }, { popCode: 'Q42', city: 'C42', country: 'XX', tier: '3', lat: 42, lon: 42, lastSeenNs: 0n });
    // 2000 more, with old timestamps (a backfill) from another writer: the watermark does not move.
    await other.writeLines(lines(3000, 2000, t - 86_400_000));
    assert.equal((await store.seenPops()).length, 3000, 'served from the catalog until something says it changed');
    // The watermark poller noticing a write by someone else marks the catalog dirty.
    await other.writeLines(lines(5000, 1, Date.now()));
    await store.latestSampleNs();
    const after = await store.seenPops();
    assert.equal(after.length, 5001);
    assert.equal(after.find((p) => p.popCode === 'Q4999')?.city, 'C4999');
  });

  it('answers with what it knows when InfluxDB cannot list the POPs, and catches up later', async () => {
    const db = 'seen_down';
    await influxd().createDatabase(db);
    const other = createInfluxClient({ url: influxd().url, db, timeoutMs: 30_000 });
    await other.writeLines(lines(0, 50, Date.now() - 60_000));
    let url = 'http://127.0.0.1:1'; // nothing listens: every read fails
    const client = createInfluxClient({ url: influxd().url, db, timeoutMs: 30_000 });
    const flaky = { ...client, query: (s: string[]) => (url === influxd().url ? client.query(s) : Promise.reject(new Error('unreachable'))) };
    const seen = createSeenPops({ client: flaky, now: Date.now, waitMs: 200, fullReloadMs: 0 });
    assert.deepEqual(await seen.list(), []);
    url = influxd().url;
    const pops = await waitFor(async () => ((await seen.list()).length === 50 ? true : undefined), 10_000, 'the catalog to load');
    assert.ok(pops);
  });
});
