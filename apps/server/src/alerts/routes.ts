/**
 * Alert routes. The list is wrapped for pagination: `{alerts, next, total}`
 * (newest first; pass `next` back as `cursor` for the following page) rather
 * than the bare array, so a long alert history never has to come in one answer.
 * Mutations need the API token when API_TOKEN is set, like ingest.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { Alert, ErrorBody } from '@edgeworker/schema';
import { DEFAULT_ALERT_PAGE, MAX_ALERT_PAGE } from '../stores/alert-cursor.ts';
import type { AlertService } from './types.ts';

export interface AlertRoutesOptions {
  alerts: AlertService;
  guard: (req: FastifyRequest) => Promise<void>;
}

export const AlertPage = Type.Object({
  alerts: Type.Array(Alert),
  next: Type.Union([Type.String(), Type.Null()], { description: 'cursor of the next page; null on the last page' }),
  total: Type.Integer({ description: 'alerts matching the filters, over all pages' }),
});

const AlertId = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });

export const alertRoutes: FastifyPluginAsyncTypebox<AlertRoutesOptions> = async (app, opts) => {
  app.get('/api/alerts', {
    schema: {
      summary: 'Alerts (regression and no_data), newest first, filtered and paged',
      description: 'Wrapped for pagination: pass `next` as `cursor` to get the following page; `total` counts every match.',
      tags: ['alerts'],
      querystring: Type.Object({
        status: Type.Optional(Type.Enum(['open', 'acknowledged', 'resolved'], { description: 'only alerts in this state' })),
        type: Type.Optional(Type.Enum(['regression', 'no_data'], { description: 'only alerts of this type' })),
        pop: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'only this POP code' })),
        function: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'only this function' })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_ALERT_PAGE, default: DEFAULT_ALERT_PAGE })),
        cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: '`next` of the previous page' })),
      }),
      response: { 200: AlertPage, 400: ErrorBody },
    },
  }, async (req) =>
    opts.alerts.list({
      status: req.query.status as Alert['status'] | undefined,
      type: req.query.type as Alert['type'] | undefined,
      popCode: req.query.pop,
      functionName: req.query.function,
      limit: req.query.limit,
      cursor: req.query.cursor,
    }));

  app.get('/api/alerts/:id', {
    schema: {
      summary: 'One alert',
      tags: ['alerts'],
      params: AlertId,
      response: { 200: Alert, 404: ErrorBody },
    },
  }, async (req) => opts.alerts.get(req.params.id));

  app.post('/api/alerts/:id/acknowledge', {
    onRequest: opts.guard,
    schema: {
      summary: 'Acknowledge an open alert (409 unless it is open)',
      tags: ['alerts'],
      params: AlertId,
      response: { 200: Alert, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody },
    },
  }, async (req) => opts.alerts.acknowledge(req.params.id));

  app.post('/api/alerts/:id/resolve', {
    onRequest: opts.guard,
    schema: {
      summary: 'Resolve an open or acknowledged alert as an operator (409 when already resolved)',
      tags: ['alerts'],
      params: AlertId,
      response: { 200: Alert, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody },
    },
  }, async (req) => opts.alerts.resolve(req.params.id, 'operator'));
};
