import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBufferedWriter } from './buffered-writer.ts';
import { createInfluxHttpSink } from './http-sink.ts';
import { captureLogger, makeSamples, startTestServer, timestampsOf, waitFor, type TestServer } from './testing.ts';

const ts = (from: number, to: number) => makeSamples(to - from, from).map((s) => s.timeNs);
const accepted = (server: TestServer, ok: (i: number) => boolean) =>
  server.requests.flatMap((r, i) => (ok(i) ? timestampsOf(r.body) : []));

test('outage (503s, then dropped connections) then recovery: every sample arrives once, in order, after exponential backoff', async (t) => {
  let n = 0;
  const server = await startTestServer((_req, res, raw) => {
    n += 1;
    if (n <= 3) res.writeHead(503).end('influxdb is restarting');
    else if (n <= 5) raw.socket.destroy(); // connection dies without an answer
    else res.writeHead(204).end();
  });
  t.after(() => server.close());
  const jitter = [0.9, 0.5, 1, 0.25, 0.75];
  let j = 0;
  const { log, records } = captureLogger();
  const writer = createBufferedWriter({
    send: createInfluxHttpSink({ url: `${server.url}/write?db=test`, timeoutMs: 2000 }),
    backoff: { initialMs: 10, maxMs: 1000 },
    random: () => jitter[j++ % jitter.length]!,
    log,
  });
  t.after(() => writer.close());

  writer.enqueue(makeSamples(5, 0));
  await waitFor(() => writer.stats().consecutiveFailures >= 1, 3000, 'first failure');
  writer.enqueue(makeSamples(5, 5)); // arrives during the outage
  await waitFor(() => writer.stats().consecutiveFailures >= 3, 3000, 'third failure');
  writer.enqueue(makeSamples(5, 10));
  // Not flush(): it would cut the running backoff short, and the delays are under test here.
  await waitFor(() => writer.stats().sentPoints === 15, 5000, 'recovery');
  assert.equal(await writer.flush(1000), true);

  const okIdx = (i: number) => i >= 5;
  assert.deepEqual(accepted(server, okIdx), ts(0, 15), 'all 15 samples, once each, in enqueue order');
  const stats = writer.stats();
  assert.equal(stats.sentPoints, 15);
  assert.equal(stats.bufferedPoints, 0);
  assert.equal(stats.bufferedBatches, 0);
  assert.equal(stats.consecutiveFailures, 0);
  assert.ok(stats.lastSuccessAt !== null && typeof stats.lastWriteLatencyMs === 'number');
  assert.match(stats.lastError ?? '', /fetch failed|socket|closed/i);

  // Backoff: delay_i = floor(r_i x min(maxMs, initialMs x 2^(i-1))), exactly, in the logs ...
  const retries = records.filter((r) => r.msg.startsWith('write failed'));
  const expected = [0.9 * 10, 0.5 * 20, 1 * 40, 0.25 * 80, 0.75 * 160].map(Math.floor);
  assert.deepEqual(retries.map((r) => r.retryInMs), expected);
  assert.deepEqual(retries.map((r) => r.attempt), [1, 2, 3, 4, 5]);
  assert.match(String(retries[0]!.error), /HTTP 503: influxdb is restarting/);
  // ... and really waited: the next request never came before its delay was over.
  for (let i = 0; i < expected.length; i++) {
    const gap = server.requests[i + 1]!.at - server.requests[i]!.at;
    assert.ok(gap >= expected[i]! - 2, `gap ${i}: ${gap} ms < ${expected[i]} ms`);
  }
  const confirmed = records.filter((r) => r.msg === 'write confirmed');
  assert.ok(confirmed.length >= 1);
  for (const r of confirmed) {
    assert.equal(r.level, 30);
    assert.equal(typeof r.points, 'number');
    assert.equal(typeof r.latencyMs, 'number');
    assert.equal(typeof r.buffered, 'number');
  }
});

test('replay merges queued batches up to maxBatchPoints, never more, keeping order', async (t) => {
  let n = 0;
  const server = await startTestServer((_req, res) => {
    n += 1;
    res.writeHead(n <= 4 ? 500 : 204).end();
  });
  t.after(() => server.close());
  const writer = createBufferedWriter({
    send: createInfluxHttpSink({ url: `${server.url}/write?db=test` }),
    maxBatchPoints: 10,
    backoff: { initialMs: 5, maxMs: 20 },
    random: () => 1,
  });
  t.after(() => writer.close());
  for (let b = 0; b < 7; b++) writer.enqueue(makeSamples(3, b * 3));
  writer.enqueue(makeSamples(25, 21)); // bigger than a batch: split, not sent whole
  assert.equal(await writer.flush(5000), true);
  for (const r of server.requests) assert.ok(timestampsOf(r.body).length <= 10, 'request within maxBatchPoints');
  assert.deepEqual(accepted(server, (i) => i >= 4), ts(0, 46));
  assert.equal(writer.stats().sentPoints, 46);
});

test('a 400 drops that batch (counted as rejected, logged) and the next batches still go out', async (t) => {
  const server = await startTestServer((req, res) => {
    if (req.body.includes('pop_code=BAD')) res.writeHead(400, { 'content-type': 'application/json' }).end('{"code":"invalid_line","message":"bad field"}');
    else res.writeHead(204).end();
  });
  t.after(() => server.close());
  const { log, records } = captureLogger();
  const writer = createBufferedWriter({
    send: createInfluxHttpSink({ url: `${server.url}/write?db=test` }),
    maxBatchPoints: 5,
    backoff: { initialMs: 5 },
    log,
  });
  t.after(() => writer.close());
  writer.enqueue(makeSamples(5, 0));
  writer.enqueue(makeSamples(5, 5, 'BAD'));
  writer.enqueue(makeSamples(5, 10));
  assert.equal(await writer.flush(5000), true);
  assert.equal(server.requests.length, 3, 'the rejected batch was not retried');
  assert.deepEqual(accepted(server, (i) => i !== 1), [...ts(0, 5), ...ts(10, 15)]);
  const stats = writer.stats();
  assert.equal(stats.rejectedPoints, 5);
  assert.equal(stats.sentPoints, 10);
  assert.match(stats.lastError ?? '', /HTTP 400.*bad field/);
  const err = records.find((r) => r.level === 50);
  assert.ok(err && /rejected/.test(err.msg) && err.points === 5);
});

test('past maxBufferedPoints the oldest points are dropped, counted and warned about (rate-limited)', async (t) => {
  let healthy = false;
  const server = await startTestServer((_req, res) => res.writeHead(healthy ? 204 : 503).end());
  t.after(() => server.close());
  const { log, records } = captureLogger();
  const writer = createBufferedWriter({
    send: createInfluxHttpSink({ url: `${server.url}/write?db=test` }),
    maxBufferedPoints: 10,
    backoff: { initialMs: 60_000 }, // sits in backoff until flush() cuts it short
    random: () => 1,
    log,
  });
  t.after(() => writer.close());
  writer.enqueue(makeSamples(4, 0));
  await waitFor(() => writer.stats().consecutiveFailures === 1, 3000, 'first failure');
  writer.enqueue(makeSamples(12, 4)); // 16 > 10: drop 0..5 (the failed batch first, then queued)
  assert.equal(writer.stats().droppedPoints, 6);
  assert.equal(writer.stats().bufferedPoints, 10);
  const warnings = () => records.filter((r) => r.level === 40 && /buffer bound/.test(r.msg));
  assert.equal(warnings().length, 1);
  assert.match(warnings()[0]!.msg, /dropped 6 oldest points \(bound is 10 points/);
  writer.enqueue(makeSamples(4, 16)); // drop 6..9; within the rate limit: no new line yet
  assert.equal(warnings().length, 1);
  healthy = true;
  assert.equal(await writer.flush(5000), true);
  assert.deepEqual(accepted(server, (i) => i >= 1), ts(10, 20), 'the newest 10 survive, in order');
  assert.equal(writer.stats().droppedPoints, 10);
  assert.equal(warnings().length, 2, 'pending drops reported on recovery');
  assert.equal(warnings()[1]!.dropped, 4);
});

test('exactly one send in flight; a throwing or non-Error-rejecting send never escapes', async (t) => {
  let inFlight = 0;
  let maxInFlight = 0;
  let calls = 0;
  const got: bigint[] = [];
  const writer = createBufferedWriter({
    maxBatchPoints: 2,
    backoff: { initialMs: 1, maxMs: 2 },
    send: async (samples) => {
      calls += 1;
      if (calls === 1) throw new Error('sync-ish failure');
      if (calls === 2) return Promise.reject(undefined); // eslint-disable-line prefer-promise-reject-errors
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight -= 1;
      got.push(...samples.map((s) => s.timeNs));
    },
  });
  t.after(() => writer.close());
  for (let i = 0; i < 10; i++) writer.enqueue(makeSamples(1, i));
  assert.equal(await writer.flush(5000), true);
  assert.equal(maxInFlight, 1);
  assert.deepEqual(got, ts(0, 10));
});

test('flush times out while the target is down; close() cuts the backoff short and reports the loss', async (t) => {
  const { log, records } = captureLogger();
  const writer = createBufferedWriter({
    send: () => Promise.reject(new Error('connection refused')),
    backoff: { initialMs: 60_000 },
    log,
  });
  writer.enqueue(makeSamples(3, 0));
  assert.equal(await writer.flush(50), false);
  assert.equal(writer.stats().bufferedPoints, 3);
  const closing = writer.close();
  await closing; // would hang for a minute if close() waited out the backoff
  assert.ok(records.some((r) => r.level === 40 && r.lost === 3 && /3 points not written/.test(r.msg)));
  writer.enqueue(makeSamples(2, 3));
  assert.equal(writer.stats().droppedPoints, 2, 'enqueue after close is counted, not thrown');
  assert.equal(await writer.flush(10), false);
  t.after(() => writer.close());
});
