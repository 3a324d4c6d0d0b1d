import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorBody, Overview } from '@edgeworker/schema';
import type { CachedQueries } from '../../cache/cached-queries.ts';
import { parseWindow } from '../params.ts';
import { FunctionQuery, sendJsonOnce, WindowQuery, withStale } from './common.ts';

export const overviewRoute: FastifyPluginAsyncTypebox<{ query: CachedQueries; defaultWindow: string }> = async (app, opts) => {
  app.get('/api/dashboard/overview', {
    schema: {
      summary: 'Fleet-wide numbers over a window',
      tags: ['query'],
      querystring: Type.Object({ window: WindowQuery, function: FunctionQuery }),
      response: { 200: Overview, 400: ErrorBody, 503: ErrorBody },
    },
  }, async (req, reply) => {
    const window = parseWindow(req.query.window ?? opts.defaultWindow);
    const answer = await opts.query.overview(window.ms, window.label, req.query.function);
    // The dashboard's most frequent question: a cache hit is sent as the JSON made once.
    if (answer.staleAgeMs === undefined) return sendJsonOnce(reply, answer.value);
    return withStale(answer);
  });
};
