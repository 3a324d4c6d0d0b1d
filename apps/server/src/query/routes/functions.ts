import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorBody, FunctionInfo } from '@edgeworker/schema';
import { arrayAnswer } from './common.ts';
import type { CachedQueries } from '../../cache/cached-queries.ts';

export const functionsRoute: FastifyPluginAsyncTypebox<{ query: CachedQueries }> = async (app, opts) => {
  app.get('/api/functions', {
    schema: {
      summary: 'Monitored functions: the built-in list plus any seen in the data',
      tags: ['query'],
      response: { 200: Type.Array(FunctionInfo), 503: ErrorBody },
    },
  }, async (_req, reply) => arrayAnswer(reply, await opts.query.functions()));
};
