/**
 * The Bus port over Redis pub/sub, so an event raised on one replica (new data
 * landed, an alert) reaches the WebSocket clients of every replica.
 *
 * An event is delivered to this replica's listeners at once, then published tagged
 * with this replica's id; the copy that comes back from Redis is recognised by that
 * tag and ignored, so local listeners see each event exactly once. Redis down: local
 * delivery goes on as before, events simply stop crossing replicas (they are
 * notifications, not data: nothing is queued for later), and the subscription is
 * re-issued when Redis is back. Since what was announced meanwhile is lost, a subscription
 * that comes back after one had been established is told to this replica's listeners as a
 * local `bus_resumed` event (the detector re-derives: late data may have landed unheard).
 * One publisher and one subscriber connection.
 */
import { inSpan, traceCarrier, withRemoteContext } from '../telemetry/spans.ts';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createLocalBus, LANDED_POPS_MAX, type Bus, type BusEvent } from '../events.ts';
import { closeRedisConnection, createRedisConnection } from './redis-connection.ts';

export interface RedisBusOptions {
  url: string;
  replicaId: string;
  log: Logger;
  /** Replicas of one deployment share a channel. */
  channel?: string;
  maxReconnectDelayMs?: number;
}

export interface RedisBusHealth {
  status: 'ok' | 'degraded';
  channel: string;
  reason?: string;
  published: number;
  received: number;
  publishFailures: number;
}

export type RedisBus = Bus & { health(): RedisBusHealth; close(): Promise<void> };

interface Envelope {
  origin: string;
  event: BusEvent;
  /** W3C trace context of the publisher (`traceparent`, `tracestate`), only while tracing is on. */
  trace?: Record<string, string>;
}

const EVENT_TYPES = new Set<BusEvent['type']>(['data_landed', 'alert']);

export function createRedisBus(opts: RedisBusOptions): RedisBus {
  const log = opts.log;
  const channel = opts.channel ?? 'ewm:events';
  const local = createLocalBus((err) => log.error({ err }, 'bus listener failed'));
  const pub: Redis = createRedisConnection({ url: opts.url, name: 'bus-pub', log, maxReconnectDelayMs: opts.maxReconnectDelayMs });
  // The subscriber only ever sends SUBSCRIBE, re-sent on every `ready` below.
  const sub: Redis = createRedisConnection({ url: opts.url, name: 'bus-sub', log, maxReconnectDelayMs: opts.maxReconnectDelayMs });
  let subscribed = false;
  // When an established subscription was lost (null: never subscribed yet, or subscribed now).
  let lostAtMs: number | null = null;
  let everSubscribed = false;
  let reason: string | undefined = 'connecting to redis';
  let closed = false;
  const counts = { published: 0, received: 0, publishFailures: 0 };

  sub.on('ready', () => {
    sub.subscribe(channel).then(
      () => {
        subscribed = true;
        reason = undefined;
        if (everSubscribed && !closed) {
          // After SUBSCRIBE is acknowledged: from here on nothing more is missed.
          const downForMs = lostAtMs === null ? 0 : Date.now() - lostAtMs;
          lostAtMs = null;
          log.warn({ channel, downForMs }, 'bus subscription restored; events other replicas published meanwhile were missed');
          local.publish({ type: 'bus_resumed', downForMs });
        }
        everSubscribed = true;
      },
      (err: Error) => {
        reason = `subscribe failed: ${err.message}`;
      },
    );
  });
  sub.on('close', () => {
    if (subscribed) lostAtMs = Date.now();
    subscribed = false;
    reason = 'subscriber connection closed';
  });
  sub.on('error', (err: Error) => {
    reason = `redis: ${err.message}`;
  });
  sub.on('message', (ch: string, text: string) => {
    if (ch !== channel) return;
    let envelope: Envelope;
    try {
      envelope = JSON.parse(text) as Envelope;
    } catch {
      log.warn({ channel }, 'ignoring a bus message that is not JSON');
      return;
    }
    if (envelope.origin === opts.replicaId) return; // already delivered locally when published
    if (!envelope.event || !EVENT_TYPES.has(envelope.event.type)) {
      log.warn({ channel, origin: envelope.origin }, 'ignoring a bus message of unknown shape');
      return;
    }
    counts.received++;
    const event = envelope.event;
    // A POP list that is not one (another version, a foreign publisher) is dropped: without it the
    // detector re-derives every series, which is always safe.
    if (event.type === 'data_landed' && event.pops !== undefined && !(Array.isArray(event.pops) && event.pops.length <= LANDED_POPS_MAX && event.pops.every((p) => typeof p === 'string'))) delete event.pops;
    // Continues the publisher's trace here: another replica's broadcast joins its ingest trace.
    withRemoteContext(envelope.trace, () =>
      inSpan(`bus.receive ${event.type}`, { kind: 'consumer', attributes: { 'bus.origin': envelope.origin } }, () => local.publish(event)),
    );
  });

  return {
    publish(event) {
      local.publish(event);
      if (closed) return;
      if (pub.status !== 'ready') {
        counts.publishFailures++;
        return;
      }
      const trace = traceCarrier();
      const envelope: Envelope = { origin: opts.replicaId, event, ...(trace ? { trace } : {}) };
      pub.publish(channel, JSON.stringify(envelope)).then(
        () => counts.published++,
        (err: Error) => {
          counts.publishFailures++;
          log.debug({ err: { message: err.message }, type: event.type }, 'event not published to other replicas');
        },
      );
    },
    subscribe: (listener) => local.subscribe(listener),
    health(): RedisBusHealth {
      const ok = subscribed && pub.status === 'ready';
      return {
        status: ok ? 'ok' : 'degraded',
        channel,
        ...(ok ? {} : { reason: reason ?? `publisher ${pub.status}` }),
        ...counts,
      };
    },
    async close() {
      closed = true;
      await Promise.all([closeRedisConnection(pub), closeRedisConnection(sub)]);
    },
  };
}
