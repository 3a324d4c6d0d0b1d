/**
 * The watermark on a real influxd once ingest has stopped for more than its recent window
 * (an hour): the poller asks every INFLUX_POLL_INTERVAL_MS and /health on every call, and
 * the README promises one bounded query. The all-time `last()` (every shard) runs once to
 * find how old the newest sample is, not at every poll for as long as the silence lasts.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { MEASUREMENT } from '@edgeworker/schema';
import { useInfluxdForFile } from '../../testing/influxd.ts';
import { createInfluxDbMetricsStore } from './influxdb-metrics-store.ts';
import { createInfluxClient } from './influx-client.ts';

const influxd = useInfluxdForFile();

it('asks all of history for the newest sample once, not at every poll, while nothing is newer than an hour', async () => {
  const db = 'watermark_silent';
  await influxd().createDatabase(db);
  const other = createInfluxClient({ url: influxd().url, db, timeoutMs: 30_000 });
  const lastMs = Date.now() - 3 * 3_600_000;
  await other.writeLines(`${MEASUREMENT},pop_code=FRA,function_name=api cold_start_time_ms=100 ${BigInt(lastMs) * 1_000_000n}`);
  const statements: string[] = [];
  const counting: typeof fetch = async (input, init) => {
    const body = init?.body;
    const q = body instanceof URLSearchParams ? body.get('q') : typeof body === 'string' ? new URLSearchParams(body).get('q') : new URL(String(input)).searchParams.get('q');
    if (q?.includes('last(')) statements.push(q);
    return fetch(input, init);
  };
  // The store hands its options to its InfluxDB client, which takes a fetch: the real one, counted.
  const options = { url: influxd().url, db, timeoutMs: 5000, fetch: counting };
  const store = await createInfluxDbMetricsStore(options);
  for (let poll = 0; poll < 5; poll++) assert.equal(await store.latestSampleNs(), BigInt(lastMs) * 1_000_000n, `poll ${poll}`);
  const unbounded = statements.filter((q) => !/WHERE time >=/.test(q));
  assert.equal(statements.length - unbounded.length, 5, 'every poll asks the last hour');
  assert.equal(unbounded.length, 1, `all of history is read once, not at every poll: ${unbounded.length} times`);
  // A sample arriving now is seen by the next poll, through the bounded query.
  const nowMs = Date.now();
  await other.writeLines(`${MEASUREMENT},pop_code=FRA,function_name=api cold_start_time_ms=100 ${BigInt(nowMs) * 1_000_000n}`);
  assert.equal(await store.latestSampleNs(), BigInt(nowMs) * 1_000_000n);
  await store.close();
});
