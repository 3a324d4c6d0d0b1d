/**
 * Serves the built dashboard (apps/web/dist) at `/`, with index.html for any
 * other GET that is not an API path, so deep links into the app work.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

const API_PREFIXES = ['/api/', '/ws', '/write', '/health', '/metrics'];

export async function registerWeb(app: FastifyInstance, distDir: string) {
  const index = join(distDir, 'index.html');
  if (!existsSync(index)) {
    app.log.warn({ distDir }, 'dashboard not built: run `npm run build` (npm start builds it when missing)');
    app.get('/', async (_req, reply) =>
      reply.type('text/plain').send('EdgeWorker Monitor API is running. The dashboard is not built: run `npm run build` and restart.\n'),
    );
    return;
  }
  await app.register(fastifyStatic, { root: distDir, prefix: '/', wildcard: false, index: ['index.html'] });
  app.get('/*', { schema: { hide: true } }, async (req, reply) => {
    const path = req.url.split('?')[0] ?? '/';
    if (API_PREFIXES.some((p) => path.startsWith(p))) {
      return reply.status(404).send({ code: 'not_found', message: `no route GET ${path}`, requestId: String(req.id) });
    }
    // A file path (say an asset of a dashboard rebuilt while the server runs) is
    // served from disk or is a 404; answering index.html there would hand the
    // browser HTML where it expects a script.
    if (/\.[A-Za-z0-9]+$/.test(path)) return reply.sendFile(decodeURIComponent(path.slice(1)));
    return reply.sendFile('index.html');
  });
}
