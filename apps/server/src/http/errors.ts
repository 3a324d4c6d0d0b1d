/**
 * Errors with codes. Handlers throw AppError (or let Fastify raise its own);
 * one handler turns every error into `{code, message, requestId}` and hides the
 * internals of 5xx errors, which are logged in full instead.
 */
import type { FastifyError, FastifyInstance } from 'fastify';

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
