/**
 * `POST /api/detector/run`: one detection pass now (waiting for a running one first),
 * answering what it created and resolved. A mutation, so behind the API token guard.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { Alert, ErrorBody } from '@edgeworker/schema';
import { AppError } from '../http/errors.ts';
import type { DetectorService } from './detector-service.ts';

export const DetectorRunResult = Type.Object({
  evaluated: Type.Integer({ description: 'series with enough data in both windows to be judged' }),
  created: Type.Array(Alert),
  resolved: Type.Array(Alert),
  refreshed: Type.Integer({ description: 'unresolved alerts whose current value or severity was updated' }),
  skipped: Type.Optional(Type.Union([Type.Literal('not_leader'), Type.Literal('lost_leadership')], {
    description: 'set when another replica leads the detector and nothing was applied',
  })),
  rederived: Type.Optional(Type.Union([
    Type.Literal('all'),
    Type.Object({ pops: Type.Array(Type.String()) }),
  ], { description: "what the pass re-derived from the store: 'all' (a fresh engine, or late data of unknown POPs or of too many to re-derive one by one) or the POPs late data touched; absent when it only read on" })),
  rederiveDeferred: Type.Optional(Type.Object({
    owed: Type.Union([Type.Literal('all'), Type.Integer({ minimum: 0 })], { description: "'all', or how many POPs' series" }),
    until: Type.String({ format: 'date-time', description: 'when the budget lets it run (it runs at the first pass from then)' }),
  }, { description: 'late data owes a re-derive that the budget for late re-derives defers: this pass evaluated on what the detector had' })),
  wander: Type.Optional(Type.Record(Type.String(), Type.Object({
    level: Type.Number({ description: 'the standard deviation of its level beyond its noise over minutes, log scale (0.03: about 3 %)' }),
    burst: Type.Number({ description: 'how much more a 2.5-minute mean of its samples varies than independent samples would (1: as much)' }),
  }), {
    description: "each function's wander as the pass counted it, of functions with enough history; their CUSUMs are less eager by it (DETECTOR_WANDER)",
  })),
  heldBack: Type.Optional(Type.Integer({ minimum: 0, description: 'series whose buckets land in parts (agents that each flush every few seconds): their newest buckets wait one to three passes, to be judged whole' })),
  durationMs: Type.Number(),
});

export interface DetectorRoutesOptions {
  detector: DetectorService;
  guard: (req: FastifyRequest) => Promise<void>;
}

export const detectorRoutes: FastifyPluginAsyncTypebox<DetectorRoutesOptions> = async (app, opts) => {
  app.post('/api/detector/run', {
    onRequest: opts.guard,
    schema: {
      summary: 'Run one regression-detection pass now',
      tags: ['alerts'],
      response: { 200: DetectorRunResult, 401: ErrorBody, 503: ErrorBody },
    },
  }, async (req) => {
    try {
      return await opts.detector.runPass();
    } catch (err) {
      req.log.error({ err }, 'detector pass failed');
      throw new AppError(
        'detector_failed',
        `the detection pass failed; check /health (metricsStore, alertStore) and retry (the server log has the error under requestId ${req.id})`,
        503,
      );
    }
  });
};
