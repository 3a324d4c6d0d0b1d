/**
 * InfluxDB-compatible write endpoints, so any InfluxDB client, Telegraf or the
 * standalone generator can push data: the 1.x `/write?db=&precision=` and the 2.x
 * `/api/v2/write?bucket=&precision=`. 204 means stored.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Precision } from '@edgeworker/line-protocol';
import { ErrorBody } from '@edgeworker/schema';
import { AppError } from '../http/errors.ts';
import { decodeBody } from './decode-body.ts';
import type { IngestService } from './ingest-service.ts';

export interface IngestRoutesOptions {
  ingest: IngestService;
  maxBodyBytes: number;
  /**
   * Most bytes of write bodies in flight at once (INGEST_MAX_INFLIGHT_BYTES): each body holds
   * about 5× its size in memory while it is read, parsed and stored (~50 MB for 10 MB).
   */
  maxInflightBytes?: number;
  guard: (req: import('fastify').FastifyRequest) => Promise<void>;
}

// 1.x spells precisions n/u/ms/s (and h/m, which no edge agent uses); 2.x uses ns/us/ms/s.
const PRECISION_ALIASES: Record<string, Precision> = { n: 'ns', ns: 'ns', u: 'us', us: 'us', ms: 'ms', s: 's' };

function precisionOf(value: string | undefined): Precision {
  if (value === undefined || value === '') return 'ns';
  const p = PRECISION_ALIASES[value];
  if (!p) throw new AppError('invalid_precision', `precision=${value} is not supported; use ns, us, ms or s`, 400);
  return p;
}

const responses = { 204: Type.Null(), 400: ErrorBody, 401: ErrorBody, 413: ErrorBody, 415: ErrorBody, 422: ErrorBody, 503: ErrorBody };

/**
 * Reserves a write's bytes (its Content-Length; the body limit when it has none) before its
 * body is read, or refuses it with 503: the server's memory for writes stays bounded however
 * many arrive at once. A body alone is always taken. The reservation ends with the request,
 * however it ends (answered, refused, client gone).
 */
function inflightLimit(maxBytes: number, maxBodyBytes: number) {
  let inflight = 0;
  return async (req: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
    const declared = Number(req.headers['content-length']);
    const bytes = Number.isSafeInteger(declared) && declared >= 0 ? Math.min(declared, maxBodyBytes) : maxBodyBytes;
    if (inflight > 0 && inflight + bytes > maxBytes) {
      reply.header('retry-after', '1');
      throw new AppError(
        'ingest_busy',
        `${inflight} bytes of writes are being processed, and this one (${bytes} bytes) would pass INGEST_MAX_INFLIGHT_BYTES (${maxBytes}); nothing was stored, retry in a second`,
        503,
      );
    }
    inflight += bytes;
    reply.raw.once('close', () => {
      inflight -= bytes;
    });
  };
}

export const ingestRoutes: FastifyPluginAsyncTypebox<IngestRoutesOptions> = async (app, opts) => {
  // Line protocol arrives with any content type (text/plain, octet-stream, none):
  // take every body as raw bytes in this plugin only.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: opts.maxBodyBytes }, (_req, body, done) => done(null, body));
  // Fastify answers 415 to a Content-Type it cannot parse (an empty `Content-Type:`, as
  // Debian's `influx -import` sends, or `garbage`) before any parser runs. InfluxDB
  // ignores the header on writes, so do we: drop it before Fastify looks at it.
  app.addHook('onRequest', async (req) => {
    delete req.headers['content-type'];
  });

  const handle = async (req: import('fastify').FastifyRequest, precision: string | undefined) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const bytes = decodeBody(raw, req.headers['content-encoding'], opts.maxBodyBytes);
    const result = await opts.ingest.ingestLineProtocol(bytes, precisionOf(precision));
    req.log.debug(result, 'ingested');
    return result;
  };

  const routes = [
    {
      url: '/write',
      summary: 'Write line protocol (InfluxDB 1.x API)',
      querystring: Type.Object({
        db: Type.Optional(Type.String()),
        rp: Type.Optional(Type.String()),
        precision: Type.Optional(Type.String()),
        u: Type.Optional(Type.String()),
        p: Type.Optional(Type.String()),
      }),
    },
    {
      url: '/api/v2/write',
      summary: 'Write line protocol (InfluxDB 2.x API)',
      querystring: Type.Object({
        bucket: Type.Optional(Type.String()),
        org: Type.Optional(Type.String()),
        orgID: Type.Optional(Type.String()),
        precision: Type.Optional(Type.String()),
      }),
    },
  ];
  const admit = inflightLimit(opts.maxInflightBytes ?? Number.POSITIVE_INFINITY, opts.maxBodyBytes);
  for (const route of routes) {
    app.post(route.url, {
      // After the token check: a refused client holds no share of the bound.
      onRequest: [opts.guard, admit],
      bodyLimit: opts.maxBodyBytes,
      schema: { summary: route.summary, tags: ['ingest'], querystring: route.querystring, response: responses },
    }, async (req, reply) => {
      const { skipped } = await handle(req, (req.query as { precision?: string }).precision);
      // Points of other measurements (Telegraf's cpu, mem, …) were skipped: say how many.
      if (skipped > 0) reply.header('x-skipped-points', String(skipped));
      return reply.status(204).send(null);
    });
  }
};
