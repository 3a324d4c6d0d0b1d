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

export const ingestRoutes: FastifyPluginAsyncTypebox<IngestRoutesOptions> = async (app, opts) => {
  // Line protocol arrives with any content type (text/plain, octet-stream, none):
  // take every body as raw bytes in this plugin only.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: opts.maxBodyBytes }, (_req, body, done) => done(null, body));

  const handle = async (req: import('fastify').FastifyRequest, precision: string | undefined) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const bytes = decodeBody(raw, req.headers['content-encoding'], opts.maxBodyBytes);
    const points = await opts.ingest.ingestLineProtocol(bytes, precisionOf(precision));
    req.log.debug({ points }, 'ingested');
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
  for (const route of routes) {
    app.post(route.url, {
      onRequest: opts.guard,
      bodyLimit: opts.maxBodyBytes,
      schema: { summary: route.summary, tags: ['ingest'], querystring: route.querystring, response: responses },
    }, async (req, reply) => {
      await handle(req, (req.query as { precision?: string }).precision);
      return reply.status(204).send(null);
    });
  }
};
