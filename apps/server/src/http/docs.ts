/**
 * Interactive API documentation at /docs (Swagger UI, served from this server, so it
 * runs under the same CSP), from the same OpenAPI document as /api/openapi.json.
 */
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

export async function registerDocs(app: FastifyInstance) {
  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    // No call to the public validator (it would also break the CSP); try-it-out works against this server.
    uiConfig: { validatorUrl: null, docExpansion: 'list', deepLinking: true, tryItOutEnabled: false },
  });
}
