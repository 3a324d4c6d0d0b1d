import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { HealthRegistry } from './health.ts';

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('down')]),
  // Without VIEWER_TOKEN everyone sees these; with it, only token holders (load balancers need only the status).
  version: Type.Optional(Type.String()),
  uptimeSeconds: Type.Optional(Type.Number()),
  components: Type.Optional(Type.Record(Type.String(), Type.Object({ status: Type.String(), required: Type.Boolean() }, { additionalProperties: true }))),
});

export interface HealthRouteOptions {
  health: HealthRegistry;
  metrics: Registry;
  version: string;
  startedAt: number;
  now: () => number;
  /** Whether this caller may see the components (false: status only). */
  canSeeDetails?: (req: FastifyRequest) => boolean;
  /** METRICS_TOKEN guard on /metrics. */
  metricsGuard?: (req: FastifyRequest) => Promise<void>;
}

export const healthRoutes: FastifyPluginAsyncTypebox<HealthRouteOptions> = async (app, opts) => {
  app.get('/health', {
    schema: {
      summary: 'Per-component state; 503 when a required component is down',
      tags: ['ops'],
      response: { 200: Health, 503: Health },
    },
  }, async (req, reply) => {
    const r = await opts.health.report();
    const code = r.status === 'down' ? 503 : 200;
    if (opts.canSeeDetails && !opts.canSeeDetails(req)) return reply.status(code).send({ status: r.status });
    const body = { status: r.status, version: opts.version, uptimeSeconds: Math.round((opts.now() - opts.startedAt) / 1000), components: r.components };
    return reply.status(code).send(body);
  });

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['ops'] }, ...(opts.metricsGuard ? { onRequest: opts.metricsGuard } : {}) }, async (_req, reply) => {
    reply.header('content-type', opts.metrics.contentType);
    return opts.metrics.metrics();
  });
};
