import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { startRedisServer, waitFor } from '../testing/redis-server.ts';
import { createRedisLeadership, type RedisLeadership } from './redis-leadership.ts';

const TTL = 900;
const log = pino({ level: 'silent' });

/** A leadership that has connected and competed once (a fresh one has not reached Redis yet). */
async function leadership(t: TestContext, url: string, replicaId: string): Promise<RedisLeadership> {
  const l = createRedisLeadership({ url, replicaId, ttlMs: TTL, log, maxReconnectDelayMs: 200 });
  t.after(() => l.close());
  await waitFor(() => l.state().holder !== null, 5000, `${replicaId} to reach Redis`);
  return l;
}

function rawClient(t: TestContext, url: string): Redis {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  r.on('error', () => {}); // the outage tests stop the server under it
  t.after(() => r.disconnect());
  return r;
}

describe('Redis leadership against a real redis-server', () => {
  it('lets one replica lead, with a fence the work can check; the other learns who holds it', async (t) => {
    const redis = await startRedisServer(t);
    const a = await leadership(t, redis.url, 'replica-a');
    const first = await a.runAsLeader(async (fence) => fence);
    assert.equal(first.ran, true);
    const fence = first.ran ? first.value : -1;
    assert.ok(fence >= 1);
    assert.equal(await a.stillLeader(fence), true);
    assert.equal(await a.stillLeader(fence + 1), false, 'a different token is not ours');

    const b = await leadership(t, redis.url, 'replica-b');
    const other = await b.runAsLeader(async () => 'must not run');
    assert.deepEqual(other, { ran: false, holder: 'replica-a' });
    assert.equal(await b.stillLeader(fence), false);
    assert.deepEqual(b.state(), { leader: false, fence: null, holder: 'replica-a' });

    // Renewals keep the lock well past its expiry.
    await new Promise((r) => setTimeout(r, TTL * 2));
    assert.equal(await a.stillLeader(fence), true);
    assert.equal((await b.runAsLeader(async () => 0)).ran, false);
  });

  it('hands over at once when the leader closes, with a larger fence', async (t) => {
    const redis = await startRedisServer(t);
    const a = await leadership(t, redis.url, 'replica-a');
    const b = await leadership(t, redis.url, 'replica-b');
    const r = await a.runAsLeader(async (f) => f);
    assert.ok(r.ran);
    await a.close();
    // Released, not left to expire: checked in Redis, not by the clock.
    const holder = await rawClient(t, redis.url).get('ewm:leader:detector');
    assert.ok(holder === null || holder.startsWith('replica-b|'), `a released the lock on close (holds ${holder})`);
    await waitFor(() => b.state().leader, TTL * 10, 'b to take over after a released the lock');
    const fenceB = b.state().fence!;
    assert.ok(fenceB > r.value, `fence grows (${r.value} -> ${fenceB})`);
    assert.equal(await a.stillLeader(r.value), false);
    assert.equal(await b.stillLeader(fenceB), true);
  });

  it('takes over when the lock of a holder that died without releasing expires, not before', async (t) => {
    const redis = await startRedisServer(t);
    const raw = rawClient(t, redis.url);
    // A holder that took the lock and then died: it will never renew nor release. Its
    // lock is long at first, so b surely meets it however slowly b connects.
    await raw.set('ewm:leader:detector', 'dead-replica|41', 'PX', 60_000);
    const b = await leadership(t, redis.url, 'replica-b');
    await waitFor(() => b.state().holder === 'dead-replica', 10_000, 'b to see the dead holder');
    assert.equal((await b.runAsLeader(async () => 0)).ran, false);
    // Several of b's attempts pass while the dead lock is still valid: b keeps off it.
    await new Promise((r) => setTimeout(r, TTL));
    assert.equal(b.state().leader, false, 'b must not take a lock that has not expired');
    // Now the dead holder's lease runs out.
    const expiresAt = Date.now() + TTL;
    await raw.pexpire('ewm:leader:detector', TTL);
    await waitFor(() => b.state().leader, TTL * 10, 'b to take over after the expiry');
    const took = Date.now() - (expiresAt - TTL);
    assert.ok(Date.now() >= expiresAt - 50, `not before the lock expired (${took} ms after the expiry was set)`);
    t.diagnostic(`takeover ${took} ms after the dead lock was set to expire in ${TTL} ms`);
  });

  it('fences off a leader whose lock was lost, before its own lease runs out', async (t) => {
    const redis = await startRedisServer(t);
    const raw = rawClient(t, redis.url);
    const a = await leadership(t, redis.url, 'replica-a');
    const r = await a.runAsLeader(async (f) => f);
    assert.ok(r.ran);
    const b = await leadership(t, redis.url, 'replica-b');
    // Say a paused for longer than the TTL: its lock expired and b took it.
    await raw.del('ewm:leader:detector');
    const rb = await b.runAsLeader(async (f) => f);
    assert.ok(rb.ran);
    assert.ok(rb.value > r.value);
    assert.equal(await a.stillLeader(r.value), false, 'a must not commit with its old fence');
    // Stepping down (the failed fence check) can come before a's next renewal reads the new holder.
    await waitFor(() => !a.state().leader && a.state().holder === 'replica-b', TTL * 10, 'a to step down and see b as the holder');
  });

  it('stops leading while Redis is down (no split brain) and leads again when it is back', async (t) => {
    const redis = await startRedisServer(t);
    const a = await leadership(t, redis.url, 'replica-a');
    const b = await leadership(t, redis.url, 'replica-b');
    assert.ok((await a.runAsLeader(async () => 0)).ran);
    await redis.stop({ crash: true });
    await waitFor(() => !a.state().leader, TTL * 10, 'the leader to step down');
    assert.equal(b.state().leader, false);
    assert.equal((await a.runAsLeader(async () => 0)).ran, false);
    assert.equal((await b.runAsLeader(async () => 0)).ran, false);
    const h = a.health();
    assert.equal(h.status, 'degraded');
    assert.match(h.reason ?? '', /redis|closed/);

    await redis.start();
    await waitFor(() => a.state().leader || b.state().leader, 5000, 'a leader after Redis came back');
    assert.ok(!(a.state().leader && b.state().leader), 'exactly one leader');
    const leader = a.state().leader ? a : b;
    assert.equal(leader.health().status, 'ok');
    assert.equal(await leader.stillLeader(leader.state().fence!), true);
  });
});
