import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { Alert } from '@edgeworker/schema';
import { LANDED_POPS_MAX, type BusEvent } from '../events.ts';
import { startRedisServer, waitFor } from '../testing/redis-server.ts';
import { createRedisBus, type RedisBus } from './redis-bus.ts';

const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function bus(t: TestContext, url: string, replicaId: string): Promise<{ bus: RedisBus; seen: BusEvent[] }> {
  const b = createRedisBus({ url, replicaId, log, maxReconnectDelayMs: 200 });
  t.after(() => b.close());
  const seen: BusEvent[] = [];
  b.subscribe((e) => seen.push(e));
  await waitFor(() => b.health().status === 'ok', 5000, `${replicaId}'s bus to subscribe`);
  return { bus: b, seen };
}

const alert: Alert = {
  id: 'a1',
  type: 'regression',
  popCode: 'FRA',
  functionName: 'ssr-render',
  severity: 'critical',
  status: 'open',
  baselineMs: 100,
  currentMs: 250,
  changePct: 150,
  createdAt: '2026-11-26T20:00:00.000Z',
  updatedAt: '2026-11-26T20:00:00.000Z',
  notifications: [],
};

describe('Redis bus against a real redis-server', () => {
  it('delivers an event locally at once and once to every other replica, never echoed back', async (t) => {
    const redis = await startRedisServer(t);
    const a = await bus(t, redis.url, 'replica-a');
    const b = await bus(t, redis.url, 'replica-b');
    const c = await bus(t, redis.url, 'replica-c');

    a.bus.publish({ type: 'data_landed', points: 3, latestMs: 1234 });
    assert.deepEqual(a.seen, [{ type: 'data_landed', points: 3, latestMs: 1234 }], 'local delivery is synchronous');
    await waitFor(() => b.seen.length === 1 && c.seen.length === 1, 2000, 'the event on b and c');
    assert.deepEqual(b.seen[0], { type: 'data_landed', points: 3, latestMs: 1234 });

    b.bus.publish({ type: 'alert', alert });
    await waitFor(() => a.seen.length === 2 && c.seen.length === 2, 2000, 'the alert on a and c');
    assert.deepEqual(a.seen[1], { type: 'alert', alert });
    await sleep(200);
    assert.equal(a.seen.length, 2, 'a got its own event once, not again from Redis');
    assert.equal(b.seen.length, 2);
    assert.equal(a.bus.health().published, 1);
    assert.equal(a.bus.health().received, 1);
  });

  it('ignores messages on the channel that are not bus events', async (t) => {
    const redis = await startRedisServer(t);
    const a = await bus(t, redis.url, 'replica-a');
    const raw = new Redis(redis.url);
    t.after(() => raw.disconnect());
    await raw.publish('ewm:events', 'not json');
    await raw.publish('ewm:events', JSON.stringify({ origin: 'x', event: { type: 'drop_tables' } }));
    await raw.publish('ewm:events', JSON.stringify({ origin: 'x', event: { type: 'data_landed', points: 1, latestMs: 1 } }));
    await waitFor(() => a.seen.length === 1, 2000, 'the one valid event');
    await sleep(100);
    assert.deepEqual(a.seen, [{ type: 'data_landed', points: 1, latestMs: 1 }]);
  });

  it("carries data_landed's POP list, and drops one that is not a list of at most LANDED_POPS_MAX strings (the detector then re-derives all)", async (t) => {
    const redis = await startRedisServer(t);
    const a = await bus(t, redis.url, 'replica-a');
    const raw = new Redis(redis.url);
    t.after(() => raw.disconnect());
    const landed = { type: 'data_landed', points: 1, latestMs: 2, earliestMs: 1 };
    for (const pops of [['FRA', "O'R"], 'FRA', [1], Array.from({ length: LANDED_POPS_MAX + 1 }, (_, i) => `P${i}`)]) {
      await raw.publish('ewm:events', JSON.stringify({ origin: 'x', event: { ...landed, pops } }));
    }
    await waitFor(() => a.seen.length === 4, 2000, 'the four events');
    assert.deepEqual(a.seen, [{ ...landed, pops: ['FRA', "O'R"] }, landed, landed, landed]);
  });

  it('keeps delivering locally while Redis is down and rejoins by itself when it is back', async (t) => {
    const redis = await startRedisServer(t);
    const a = await bus(t, redis.url, 'replica-a');
    const b = await bus(t, redis.url, 'replica-b');

    await redis.stop({ crash: true });
    await waitFor(() => a.bus.health().status === 'degraded', 3000, 'a to notice the outage');
    a.bus.publish({ type: 'data_landed', points: 1, latestMs: 1 });
    assert.equal(a.seen.length, 1, 'local listeners still hear the event');
    assert.ok(a.bus.health().publishFailures >= 1);
    assert.ok(a.bus.health().reason);

    await redis.start();
    await waitFor(() => a.bus.health().status === 'ok' && b.bus.health().status === 'ok', 5000, 'both buses to resubscribe');
    a.bus.publish({ type: 'data_landed', points: 2, latestMs: 2 });
    const landed = () => b.seen.filter((e) => e.type === 'data_landed');
    await waitFor(() => landed().length === 1, 2000, 'the event across replicas after the outage');
    assert.deepEqual(landed(), [{ type: 'data_landed', points: 2, latestMs: 2 }], 'events from the outage are not replayed');
    assert.equal(b.seen.filter((e) => e.type === 'bus_resumed').length, 1, 'b is told it may have missed some');
  });

  it('tells its own listeners, once, that the subscription is back after it was lost (what was published meanwhile was missed); the first subscription is no resumption', async (t) => {
    const redis = await startRedisServer(t);
    const a = await bus(t, redis.url, 'replica-a');
    const b = await bus(t, redis.url, 'replica-b');
    assert.equal(a.seen.length, 0, 'subscribing the first time is not a resumption');
    const raw = new Redis(redis.url);
    t.after(() => raw.disconnect());
    // Cut the subscribers off; b publishes before they can be back (the first retry waits 100 ms).
    const killed = Number(await raw.call('CLIENT', 'KILL', 'TYPE', 'pubsub'));
    assert.equal(killed, 2, "a's and b's subscriber connections");
    b.bus.publish({ type: 'data_landed', points: 5, latestMs: 5, earliestMs: 1 });
    await waitFor(() => a.seen.some((e) => e.type === 'bus_resumed'), 5000, "a's subscription to come back");
    await sleep(200);
    assert.equal(a.seen.length, 1, 'the event published while a was cut off never reaches it; the resumption does, once');
    const resumed = a.seen[0]!;
    if (resumed.type !== 'bus_resumed') assert.fail(`a resumption expected, got ${JSON.stringify(resumed)}`);
    assert.ok(resumed.downForMs >= 0 && resumed.downForMs < 5000, JSON.stringify(resumed));
    assert.equal(a.bus.health().status, 'ok');
    // b's own listeners got its event locally, and b's resumption; neither crossed to a.
    assert.deepEqual(b.seen.map((e) => e.type).sort(), ['bus_resumed', 'data_landed']);
    a.bus.publish({ type: 'data_landed', points: 6, latestMs: 6 });
    await waitFor(() => b.seen.length === 3, 2000, 'events cross again');
    assert.deepEqual(b.seen[2], { type: 'data_landed', points: 6, latestMs: 6 });
  });

  it('tells of a resumption after Redis itself was down', async (t) => {
    const redis = await startRedisServer(t);
    const a = await bus(t, redis.url, 'replica-a');
    await redis.stop({ crash: true });
    await waitFor(() => a.bus.health().status === 'degraded', 3000, 'a to notice the outage');
    await redis.start();
    await waitFor(() => a.seen.some((e) => e.type === 'bus_resumed'), 5000, 'the resumption');
    assert.equal(a.seen.filter((e) => e.type === 'bus_resumed').length, 1);
  });
});
