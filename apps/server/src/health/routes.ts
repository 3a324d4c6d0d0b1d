import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Registry } from 'prom-client';
import type { HealthRegistry } from './health.ts';

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('down')]),
  version: Type.String(),
  uptimeSeconds: Type.Number(),
  components: Type.Record(Type.String(), Type.Object({ status: Type.String(), required: Type.Boolean() }, { additionalProperties: true })),
});

export const healthRoutes: FastifyPluginAsyncTypebox<{ health: HealthRegistry; metrics: Registry; version: string; startedAt: number; now: () => number }> = async (app, opts) => {
  app.get('/health', {
    schema: {
      summary: 'Per-component state; 503 when a required component is down',
      tags: ['ops'],
      response: { 200: Health, 503: Health },
    },
  }, async (_req, reply) => {
    const r = await opts.health.report();
    const body = { status: r.status, version: opts.version, uptimeSeconds: Math.round((opts.now() - opts.startedAt) / 1000), components: r.components };
    return reply.status(r.status === 'down' ? 503 : 200).send(body);
  });

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['ops'] } }, async (_req, reply) => {
    reply.header('content-type', opts.metrics.contentType);
    return opts.metrics.metrics();
  });
};
