import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { Answer } from '../../cache/cached-queries.ts';

export const WindowQuery = Type.Optional(Type.String({ description: 'duration like 5m, 1h (10s to 7d), answered as the nearest canonical window (see README)', default: '5m', maxLength: 32 }));
/**
 * Names (functions, POP codes) come from line-protocol tags, which cannot hold control
 * characters: one in a query is refused with 400 before it reaches a store (a newline
 * in an InfluxQL string made InfluxDB fail the query, which counted as an outage).
 */
export const NAME_PATTERN = '^[^\\u0000-\\u001f\\u007f]+$';
export const FunctionQuery = Type.Optional(Type.String({ description: 'only this function', minLength: 1, maxLength: 128, pattern: NAME_PATTERN }));
export const PopCodeParam = Type.Object({ code: Type.String({ minLength: 1, maxLength: 128, pattern: NAME_PATTERN }) });

const serialized = new WeakMap<object, string>();

/**
 * A cached answer as JSON, serialised once per cache entry (the memory cache hands out
 * the same object until it is recomputed), so a cache hit costs no serialisation. A
 * string sent as `application/json` skips Fastify's response serialiser; the route's
 * response schema still documents the shape, which the query service builds.
 */
export function sendJsonOnce(reply: FastifyReply, value: object): FastifyReply {
  let text = serialized.get(value);
  if (text === undefined) {
    text = JSON.stringify(value);
    serialized.set(value, text);
  }
  return reply.type('application/json; charset=utf-8').send(text);
}

/** Object answers say they are stale in the body: `stale: true` and `staleAgeMs`. */
export function withStale<T extends object>(a: Answer<T>): T & { stale?: true; staleAgeMs?: number } {
  return a.staleAgeMs === undefined ? a.value : { ...a.value, stale: true, staleAgeMs: a.staleAgeMs };
}

/**
 * Array answers keep the SPEC's shape; a stale one says so in headers:
 * `X-Data-Stale: true` and the standard `Age` (seconds).
 */
export function arrayAnswer<T>(reply: FastifyReply, a: Answer<T[]>): T[] | FastifyReply {
  if (a.staleAgeMs !== undefined) {
    reply.header('x-data-stale', 'true');
    reply.header('age', String(Math.floor(a.staleAgeMs / 1000)));
  }
  // The answer as serialised when it was computed: a 10,000-POP heatmap (1.5 MB) is
  // not serialised again for every client that asks for it.
  if (a.json !== undefined) return reply.type('application/json; charset=utf-8').send(a.json);
  return a.value;
}
