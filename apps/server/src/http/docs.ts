/**
 * Interactive API documentation at /docs (Swagger UI, served from this server, so it
 * runs under the same CSP), from the same OpenAPI document as /api/openapi.json.
 */
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

export async function registerDocs(app: FastifyInstance) {
  // Its own context, so the relaxed style rule below applies to these routes only.
  await app.register(async (docs) => {
    // Swagger UI applies inline styles; the dashboard needs none and keeps `style-src 'self'`.
    docs.addHook('onSend', async (_req, reply, payload) => {
      const csp = reply.getHeader('content-security-policy');
      if (typeof csp === 'string') reply.header('content-security-policy', csp.replace(/style-src 'self'/, "style-src 'self' 'unsafe-inline'"));
      return payload;
    });
    await docs.register(fastifySwaggerUi, {
      routePrefix: '/docs',
      // No call to the public validator (it would also break the CSP).
      uiConfig: { validatorUrl: null, docExpansion: 'list', deepLinking: true, tryItOutEnabled: false },
    });
  });
}
