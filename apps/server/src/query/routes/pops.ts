import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorBody, Pop, PopDetail } from '@edgeworker/schema';
import type { QueryService } from '../query-service.ts';
import { parseWindow } from '../params.ts';
import { WindowQuery } from './common.ts';

export const popsRoutes: FastifyPluginAsyncTypebox<{ query: QueryService; defaultWindow: string }> = async (app, opts) => {
  app.get('/api/pops', {
    schema: {
      summary: 'Every known POP: the catalog plus POPs first seen in the data',
      tags: ['query'],
      response: { 200: Type.Array(Pop) },
    },
  }, async () => opts.query.knownPops());

  app.get('/api/pops/:code', {
    schema: {
      summary: 'One POP with its statistics over a window, overall and per function',
      tags: ['query'],
      params: Type.Object({ code: Type.String({ minLength: 1, maxLength: 128 }) }),
      querystring: Type.Object({ window: WindowQuery }),
      response: { 200: PopDetail, 400: ErrorBody, 404: ErrorBody },
    },
  }, async (req) => {
    const label = req.query.window ?? opts.defaultWindow;
    return opts.query.popDetail(req.params.code, parseWindow(label), label);
  });
};
