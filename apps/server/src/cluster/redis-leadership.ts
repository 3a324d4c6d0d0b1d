/**
 * Leadership over a Redis lock: one replica at a time runs the detector's passes.
 *
 * - Acquire: `SET lock "<replicaId>|<fence>" NX PX ttl`, where `fence` comes from
 *   INCR on a counter in the same Lua script, so every new term has a larger token.
 * - Renew every ttl/3 with compare-and-extend (PEXPIRE only if the value is still
 *   ours); release on close with compare-and-delete, so the next replica need not
 *   wait for the expiry.
 * - A standby retries when the holder's lock is due to expire (PTTL), so it takes
 *   over within the lock expiry of the holder's last renewal.
 * - `stillLeader(fence)` asks Redis whether the lock still holds this replica's
 *   token; the detector calls it before committing a pass.
 * - No split brain: the leader steps down as soon as a renewal fails or cannot reach
 *   Redis, and never considers itself leader past `last renewal + ttl` (the moment
 *   another replica may take the lock). The price: while Redis is unreachable no
 *   replica runs the detector; passes resume once Redis is back.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { LeaderState, Leadership } from './leadership.ts';
import { closeRedisConnection, createRedisConnection } from './redis-connection.ts';

export interface RedisLeadershipOptions {
  url: string;
  replicaId: string;
  /** Lock expiry; renewals every third of it. */
  ttlMs: number;
  log: Logger;
  /** What the lock is for; replicas competing for it share the name. */
  lockName?: string;
  keyPrefix?: string;
  maxReconnectDelayMs?: number;
  now?: () => number;
}

export type RedisLeadership = Leadership & { kind: 'redis'; health(): RedisLeadershipHealth };

export interface RedisLeadershipHealth {
  status: 'ok' | 'degraded';
  replicaId: string;
  leader: boolean;
  fence: number | null;
  holder: string | null;
  lockTtlMs: number;
  reason?: string;
}

// Returns the new fence on acquisition, else [holder value, its remaining ms].
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local fence = redis.call('INCR', KEYS[2])
  redis.call('SET', KEYS[1], ARGV[1] .. '|' .. fence, 'PX', ARGV[2])
  return fence
end
return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}`;
const EXTEND = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** host:pid:random, unique per process start. */
export function newReplicaId(): string {
  return `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
}

const holderOf = (value: string | null) => (value === null ? null : value.slice(0, value.lastIndexOf('|')));

export function createRedisLeadership(opts: RedisLeadershipOptions): RedisLeadership {
  const now = opts.now ?? Date.now;
  const log = opts.log;
  const ttl = opts.ttlMs;
  const prefix = opts.keyPrefix ?? 'ewm:';
  const lockKey = `${prefix}leader:${opts.lockName ?? 'detector'}`;
  const fenceKey = `${lockKey}:fence`;
  const redis: Redis = createRedisConnection({
    url: opts.url,
    name: 'leader',
    log,
    maxReconnectDelayMs: opts.maxReconnectDelayMs,
    // A renewal that cannot answer within a third of the lease is as good as lost.
    commandTimeoutMs: Math.max(100, Math.floor(ttl / 3)),
  });

  let fence: number | null = null;
  /** Local lease end: never leader past this, whatever Redis says later. */
  let leaseUntil = 0;
  let holder: string | null = null;
  let reason: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let tick: Promise<void> | undefined;

  const ourValue = () => `${opts.replicaId}|${fence}`;
  const isLeader = () => fence !== null && now() < leaseUntil;

  function stepDown(why: string) {
    if (fence !== null) log.warn({ fence, reason: why }, 'no longer detector leader');
    fence = null;
    leaseUntil = 0;
    reason = why;
  }

  /** One attempt: renew when leader, else try to acquire. Returns when to try next (ms). */
  async function attempt(): Promise<number> {
    if (closed) return ttl;
    const startedAt = now();
    try {
      if (fence !== null) {
        const ok = Number(await redis.eval(EXTEND, 1, lockKey, ourValue(), String(ttl)));
        if (ok === 1) {
          leaseUntil = startedAt + ttl;
          holder = opts.replicaId;
          reason = undefined;
          return Math.floor(ttl / 3);
        }
        stepDown('the lock expired or was taken by another replica');
      }
      const r = (await redis.eval(ACQUIRE, 2, lockKey, fenceKey, opts.replicaId, String(ttl))) as number | [string | null, number];
      if (closed) return ttl;
      if (typeof r === 'number') {
        fence = r;
        leaseUntil = startedAt + ttl;
        holder = opts.replicaId;
        reason = undefined;
        log.info({ fence, replicaId: opts.replicaId }, 'became detector leader');
        return Math.floor(ttl / 3);
      }
      const [value, pttl] = r;
      holder = holderOf(value);
      reason = undefined;
      // Try again just after the holder's lock would expire, or at ttl/3 at the latest.
      return pttl > 0 ? Math.min(Math.floor(ttl / 3), pttl + 20) : 20;
    } catch (err) {
      // Cannot reach Redis: stop leading at once rather than risk two leaders.
      stepDown(`redis: ${(err as Error).message}`);
      holder = null;
      return Math.min(Math.floor(ttl / 3), 1000);
    }
  }

  function schedule(ms: number) {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => void runTick(), ms);
    timer.unref();
  }

  /** Serialises attempts: the timer and runAsLeader never race each other. */
  function runTick(): Promise<void> {
    if (tick) return tick;
    tick = attempt().then((next) => {
      tick = undefined;
      schedule(next);
    });
    return tick;
  }

  // Start competing as soon as the connection is up (and again after every reconnect).
  redis.on('ready', () => void runTick());
  redis.on('close', () => {
    if (fence !== null) stepDown('redis connection closed');
  });

  const state = (): LeaderState => ({ leader: isLeader(), fence: isLeader() ? fence : null, holder });

  return {
    kind: 'redis',
    replicaId: opts.replicaId,
    async runAsLeader(fn) {
      if (!isLeader()) await runTick();
      const term = fence;
      if (!isLeader() || term === null) return { ran: false, holder };
      return { ran: true, value: await fn(term) };
    },
    async stillLeader(f: number) {
      if (!isLeader() || fence !== f) return false;
      try {
        return (await redis.get(lockKey)) === `${opts.replicaId}|${f}`;
      } catch {
        return false;
      }
    },
    state,
    health(): RedisLeadershipHealth {
      const s = state();
      const ok = redis.status === 'ready' && reason === undefined;
      return {
        status: ok ? 'ok' : 'degraded',
        replicaId: opts.replicaId,
        leader: s.leader,
        fence: s.fence,
        holder: s.holder,
        lockTtlMs: ttl,
        ...(ok ? {} : { reason: reason ?? `redis ${redis.status}` }),
      };
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await tick?.catch(() => {});
      if (fence !== null && redis.status === 'ready') {
        try {
          await redis.eval(RELEASE, 1, lockKey, ourValue());
          log.info({ fence }, 'released the detector lock');
        } catch (err) {
          log.warn({ err: { message: (err as Error).message } }, 'could not release the detector lock; it expires by itself');
        }
      }
      fence = null;
      leaseUntil = 0;
      await closeRedisConnection(redis);
    },
  };
}
