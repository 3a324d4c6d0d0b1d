/**
 * Request ids and what of a request may reach the log.
 *
 * - A client's `x-request-id` (load balancers set one) is kept when it looks like an
 *   id: at most 64 characters of `A-Z a-z 0-9 . _ : -`. Anything else (a megabyte, a
 *   newline that forges a log line, a quote) is replaced by an id of our own.
 * - Secrets never reach the log: the 1.x query parameters `p` (the token) and `u`
 *   are masked in every logged URL, and pino redacts Authorization and cookies
 *   wherever a request's headers are logged.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Fastify's `genReqId`. */
export function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

const SECRET_PARAMS = /([?&](?:p|u|token|password)=)[^&#]*/gi;

/** The URL with the values of `p`, `u`, `token` and `password` masked. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_PARAMS, '$1***');
}

/** pino `redact` paths: wherever request headers are logged. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'request.headers.authorization',
  'request.headers.cookie',
];

/** Fastify's request serializer (what `req` looks like in a log line), with the URL masked. */
export function serializeRequest(req: { method: string; url: string; hostname?: string; ip?: string; id?: unknown }) {
  return { method: req.method, url: redactUrl(req.url), host: req.hostname, remoteAddress: req.ip, id: req.id };
}

/** Every answer names its request id, so a client can quote it when reporting a problem. */
export function echoRequestId(app: FastifyInstance) {
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
}
