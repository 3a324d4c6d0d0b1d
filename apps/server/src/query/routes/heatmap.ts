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
      tags: ['query'],
      querystring: Type.Object({ window: WindowQuery, function: FunctionQuery }),
      response: { 200: Type.Array(HeatmapEntry), 400: ErrorBody, 503: ErrorBody },
    },
  }, async (req, reply) => {
    const window = parseWindow(req.query.window ?? opts.defaultWindow);
    // The array has no field for it: the window actually answered (see CANONICAL_WINDOWS) is a header.
    reply.header('x-window', window.label);
    return arrayAnswer(reply, await opts.query.heatmap(window.ms, req.query.function));
  });
};
