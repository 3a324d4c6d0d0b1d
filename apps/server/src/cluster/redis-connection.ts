/**
 * One ioredis connection set up the way every Redis adapter here needs it: calls
 * fail fast while Redis is away (no offline queue, one retry, a command timeout),
 * so a request never hangs on Redis and the adapter can fall back at once; the
 * connection itself keeps reconnecting with capped exponential backoff and jitter,
 * so the replica rejoins by itself when Redis returns.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { redact } from '../config.ts';

export interface RedisConnectionOptions {
  url: string;
  /** Shown in logs and in CLIENT LIST (e.g. `cache`, `bus-sub`). */
  name: string;
  log: Logger;
  /** Longest wait between reconnection attempts. */
  maxReconnectDelayMs?: number;
  commandTimeoutMs?: number;
  /** The subscriber connection must queue its SUBSCRIBE; everything else fails fast. */
  offlineQueue?: boolean;
}

export function reconnectDelay(attempt: number, maxMs: number): number {
  // 100 ms, 200 ms, 400 ms … capped, plus up to 20 % jitter so replicas do not reconnect in lockstep.
  const base = Math.min(maxMs, 100 * 2 ** Math.min(attempt - 1, 16));
  return Math.round(base + Math.random() * base * 0.2);
}

export function createRedisConnection(opts: RedisConnectionOptions): Redis {
  const maxDelay = opts.maxReconnectDelayMs ?? 2000;
  const redis = new Redis(opts.url, {
    connectionName: `ewm-${opts.name}`,
    retryStrategy: (times) => reconnectDelay(times, maxDelay),
    maxRetriesPerRequest: 1,
    enableOfflineQueue: opts.offlineQueue ?? false,
    commandTimeout: opts.commandTimeoutMs ?? 1000,
    connectTimeout: 2000,
    // Subscriptions are re-issued by the bus on every `ready`, so they survive a Redis restart.
    autoResubscribe: false,
  });
  const log = opts.log.child({ redis: opts.name });
  // Log state changes once, not every failed reconnection attempt.
  let lastError = '';
  redis.on('error', (err: Error) => {
    if (err.message === lastError) return;
    lastError = err.message;
    log.warn({ err: { message: err.message }, url: redact(opts.url) }, 'redis connection error; reconnecting in the background');
  });
  redis.on('ready', () => {
    if (lastError) log.info({ url: redact(opts.url) }, 'redis connection back');
    lastError = '';
  });
  return redis;
}

/** Closes without waiting for a Redis that may be gone (QUIT would wait for its reply). */
export async function closeRedisConnection(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // fall through to a hard disconnect
    }
  }
  redis.disconnect();
}
