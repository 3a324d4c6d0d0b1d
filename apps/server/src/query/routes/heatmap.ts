import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorBody, HeatmapEntry } from '@edgeworker/schema';
import type { QueryService } from '../query-service.ts';
import { parseWindow } from '../params.ts';
import { FunctionQuery, WindowQuery } from './common.ts';

export const heatmapRoute: FastifyPluginAsyncTypebox<{ query: QueryService; defaultWindow: string }> = async (app, opts) => {
  app.get('/api/heatmap', {
    schema: {
      summary: 'Every known POP with its mean cold start and status over a window',
      tags: ['query'],
      querystring: Type.Object({ window: WindowQuery, function: FunctionQuery }),
      response: { 200: Type.Array(HeatmapEntry), 400: ErrorBody },
    },
  }, async (req) => opts.query.heatmap(parseWindow(req.query.window ?? opts.defaultWindow), req.query.function));
};
