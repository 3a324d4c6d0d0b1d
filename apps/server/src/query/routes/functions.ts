import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { FunctionInfo } from '@edgeworker/schema';
import type { QueryService } from '../query-service.ts';

export const functionsRoute: FastifyPluginAsyncTypebox<{ query: QueryService }> = async (app, opts) => {
  app.get('/api/functions', {
    schema: {
      summary: 'Monitored functions: the built-in list plus any seen in the data',
      tags: ['query'],
      response: { 200: Type.Array(FunctionInfo) },
    },
  }, async () => opts.query.functions());
};
