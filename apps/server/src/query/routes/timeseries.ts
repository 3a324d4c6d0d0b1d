import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorBody, Timeseries } from '@edgeworker/schema';
import type { CachedQueries } from '../../cache/cached-queries.ts';
import { chooseStep, parseInstant, parseStep } from '../params.ts';
import { FunctionQuery, PopCodeParam, withStale } from './common.ts';

const DEFAULT_RANGE_MS = 3_600_000;
const AUTO_STEP_POINTS = 360;

export const timeseriesRoute: FastifyPluginAsyncTypebox<{ query: CachedQueries; now: () => number; maxPoints: number }> = async (app, opts) => {
  app.get('/api/pops/:code/timeseries', {
    schema: {
      summary: 'Mean, p50, p95, p99 and sample count per step for one POP',
      description: `from/to: RFC 3339 or epoch ms (default: the last hour). step: e.g. 10s, 1m (default: about ${AUTO_STEP_POINTS} points). A range/step giving more than ${opts.maxPoints} points is refused with 400.`,
      tags: ['query'],
      params: PopCodeParam,
      querystring: Type.Object({
        from: Type.Optional(Type.String({ maxLength: 64 })),
        to: Type.Optional(Type.String({ maxLength: 64 })),
        step: Type.Optional(Type.String({ maxLength: 32 })),
        function: FunctionQuery,
      }),
      response: { 200: Timeseries, 400: ErrorBody, 404: ErrorBody, 503: ErrorBody },
    },
  }, async (req) => {
    const to = req.query.to !== undefined ? parseInstant('to', req.query.to) : opts.now();
    const from = req.query.from !== undefined ? parseInstant('from', req.query.from) : to - DEFAULT_RANGE_MS;
    const step = req.query.step !== undefined ? parseStep(req.query.step) : chooseStep(Math.max(to - from, 1), AUTO_STEP_POINTS);
    return withStale(await opts.query.timeseries(req.params.code, from, to, step, req.query.function));
  });
};
