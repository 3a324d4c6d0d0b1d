import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorBody, HeatmapEntry } from '@edgeworker/schema';
import type { CachedQueries } from '../../cache/cached-queries.ts';
import { parseWindow } from '../params.ts';
import { arrayAnswer, FunctionQuery, WindowQuery } from './common.ts';

export const heatmapRoute: FastifyPluginAsyncTypebox<{ query: CachedQueries; defaultWindow: string }> = async (app, opts) => {
  app.get('/api/heatmap', {
    schema: {
      summary: 'Every known POP with its mean cold start and status over a window',
      description: 'The X-Resolution header says which data answered: raw, 1m or 1h (rollups: count and mean exact, p95 within 1 %).',
      tags: ['query'],
      querystring: Type.Object({ window: WindowQuery, function: FunctionQuery }),
      response: { 200: Type.Array(HeatmapEntry), 400: ErrorBody, 503: ErrorBody },
    },
  }, async (req, reply) => {
    const window = parseWindow(req.query.window ?? opts.defaultWindow);
    // The array has no field for them: the window actually answered (see CANONICAL_WINDOWS)
    // and the resolution that answered it are headers.
    const a = await opts.query.heatmap(window.ms, req.query.function);
    reply.header('x-window', window.label);
    reply.header('x-resolution', a.resolution);
    return arrayAnswer(reply, a);
  });
};
