import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorBody, Pop, PopDetail } from '@edgeworker/schema';
import type { CachedQueries } from '../../cache/cached-queries.ts';
import { parseWindow } from '../params.ts';
import { arrayAnswer, PopCodeParam, WindowQuery, withStale } from './common.ts';

export const popsRoutes: FastifyPluginAsyncTypebox<{ query: CachedQueries; defaultWindow: string }> = async (app, opts) => {
  app.get('/api/pops', {
    schema: {
      summary: 'Every known POP: the catalog plus POPs first seen in the data',
      tags: ['query'],
      response: { 200: Type.Array(Pop), 503: ErrorBody },
    },
  }, async (_req, reply) => arrayAnswer(reply, await opts.query.pops()));

  app.get('/api/pops/:code', {
    schema: {
      summary: 'One POP with its statistics over a window, overall and per function',
      tags: ['query'],
      params: PopCodeParam,
      querystring: Type.Object({ window: WindowQuery }),
      response: { 200: PopDetail, 400: ErrorBody, 404: ErrorBody, 503: ErrorBody },
    },
  }, async (req) => {
    const window = parseWindow(req.query.window ?? opts.defaultWindow);
    return withStale(await opts.query.popDetail(req.params.code, window.ms, window.label));
  });
};
