/**
 * Errors with codes. Handlers throw AppError (or let Fastify raise its own);
 * one handler turns every error into `{code, message, requestId}` and hides the
 * internals of 5xx errors, which are logged in full instead.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode = 400,
    readonly details: Record<string, unknown> = {},
    /** `cause`: what went wrong underneath (a store error); logged, never sent. */
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AppError';
  }
}

const FASTIFY_CODES: Record<string, { status: number; code: string; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'bad_request' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'bad_request' },
};

/**
 * The `code` an error's answer carries (the handler below sends exactly this), so what counts
 * errors (edgeworker_ingest_rejected_total{code}) names them as the clients and the runbook see
 * them: Fastify's own FST_ERR_CTP_BODY_TOO_LARGE is `payload_too_large`, as the gzip limit's is.
 */
export function errorCode(error: FastifyError | AppError | { code?: string; statusCode?: number; validation?: unknown }): string {
  if (error instanceof AppError) return error.code;
  if ('validation' in error && error.validation) return 'bad_request';
  const known = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (known) return known.code;
  return (error.statusCode ?? 500) < 500 ? 'bad_request' : 'internal_error';
}

export function registerErrorHandler(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    const requestId = String(request.id);
    if (error instanceof AppError) {
      if (error.statusCode >= 500) request.log.error({ err: error, cause: error.cause }, error.message);
      return reply.status(error.statusCode).send({ code: error.code, message: error.message, requestId, ...error.details });
    }
    if ('validation' in error && error.validation) {
      return reply.status(400).send({ code: 'bad_request', message: error.message, requestId });
    }
    const known = error.code ? FASTIFY_CODES[error.code] : undefined;
    if (known) {
      return reply.status(known.status).send({ code: known.code, message: error.message, requestId });
    }
    const status = error.statusCode ?? 500;
    if (status < 500) {
      return reply.status(status).send({ code: 'bad_request', message: error.message, requestId });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.status(status).send({
      code: 'internal_error',
      message: `internal error; the server log has the details under requestId ${requestId}`,
      requestId,
    });
  });

  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}`, requestId: String(request.id) });
  });
}

/**
 * Most characters of one path parameter the router takes. A POP code holds up to 128
 * characters (a tag value's limit), and a non-ASCII one arrives percent-encoded, up to 9
 * characters each (3 UTF-8 bytes); the router's default of 100 answered 414 or 404 for
 * POP codes that ingest accepts.
 */
export const MAX_PARAM_LENGTH = 128 * 9;

/**
 * Errors the router raises before any route or hook runs (Fastify's `frameworkErrors`),
 * in our shape: they bypassed the error handler and sent Fastify's own body.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const requestId = String(request.id);
  reply.header('x-request-id', requestId);
  if (error.code === 'FST_ERR_BAD_URL') {
    return reply.status(400).send({ code: 'bad_request', message: 'the URL path is not valid percent-encoded UTF-8', requestId });
  }
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return reply.status(414).send({ code: 'uri_too_long', message: `a path segment is longer than ${MAX_PARAM_LENGTH} characters; names are at most 128`, requestId });
  }
  request.log.error({ err: error }, 'request failed in the router');
  return reply.status(500).send({ code: 'internal_error', message: `internal error; the server log has the details under requestId ${requestId}`, requestId });
}

/**
 * A request Node's HTTP parser refuses (Fastify's `clientErrorHandler`) never reaches a
 * route: Fastify answered `{error, message: "Client Error", statusCode}` without an
 * X-Request-Id. The same answer in our shape, with what was wrong.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket) {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const requestId = randomUUID();
  let status = 400;
  let code = 'bad_request';
  let message = `the request is not valid HTTP/1.1 (${err.code ?? 'parse error'}); nothing was done`;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    code = 'request_timeout';
    message = 'the request did not arrive in time (HTTP_REQUEST_TIMEOUT_MS, HTTP_HEADERS_TIMEOUT_MS); nothing was done';
  } else if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    code = 'headers_too_large';
    message = 'the request headers are larger than the server takes (16 KiB); nothing was done';
  }
  const body = JSON.stringify({ code, message, requestId });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
