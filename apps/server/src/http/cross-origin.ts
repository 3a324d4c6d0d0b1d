/**
 * Cross-origin access. CORS is closed by default and CORS_ORIGINS opens it
 * (@fastify/cors). CORS alone does not stop a page on another site from *sending*
 * a "simple" request (a form POST of text/plain to /write, a POST to
 * /api/detector/run): the browser only hides the answer. So a browser request that
 * changes something, and every WebSocket handshake, is refused with 403 unless it
 * comes from this server's own origin or an allowed one.
 *
 * Browsers say where a request comes from (`Origin`, and `Sec-Fetch-Site` in
 * current ones); InfluxDB clients, Telegraf and curl send neither, so they are not
 * affected.
 */
import fastifyCors from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from './errors.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface CrossOriginOptions {
  /** Origins allowed cross-origin (CORS_ORIGINS); `*` any. */
  allowed: string[] | '*';
  /** Other origins of this server itself (PUBLIC_URL), besides the Host it is reached at. */
  ownOrigins?: string[];
}

export async function registerCrossOrigin(app: FastifyInstance, opts: CrossOriginOptions) {
  const allowed = opts.allowed === '*' ? '*' : new Set(opts.allowed);
  const own = new Set(opts.ownOrigins ?? []);
  const isAllowed = (origin: string) => allowed === '*' || allowed.has(origin);

  await app.register(fastifyCors, {
    origin: opts.allowed === '*' ? true : opts.allowed.length > 0 ? opts.allowed : false,
    methods: ['GET', 'HEAD', 'POST'],
    allowedHeaders: ['authorization', 'content-type', 'content-encoding', 'x-request-id'],
    exposedHeaders: ['x-data-stale', 'age', 'x-window', 'x-resolution', 'x-skipped-points', 'x-request-id'],
    maxAge: 600,
  });

  /**
   * Same origin: the Origin names the host the request was sent to, as the Host header
   * or a proxy's X-Forwarded-Host says (a page elsewhere cannot add that header to a
   * request without a CORS preflight, which is refused), or PUBLIC_URL.
   */
  function sameOrigin(req: FastifyRequest, origin: string): boolean {
    if (own.has(origin)) return true;
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return false;
    }
    const forwarded = req.headers['x-forwarded-host'];
    const forwardedHost = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    return host === req.headers.host || host === forwardedHost;
  }

  app.addHook('onRequest', async (req) => {
    const upgrade = req.headers.upgrade?.toLowerCase() === 'websocket';
    if (SAFE_METHODS.has(req.method) && !upgrade) return;
    const origin = req.headers.origin;
    const site = req.headers['sec-fetch-site'];
    if (origin === undefined || origin === 'null' || origin === '') {
      // No Origin: not a browser (or a same-origin navigation); `null` is a sandboxed or file page.
      if (origin === undefined && (site === undefined || site === 'same-origin' || site === 'none')) return;
      throw refused(req, origin ?? '(none)');
    }
    if (sameOrigin(req, origin) || isAllowed(origin)) return;
    throw refused(req, origin);
  });
}

function refused(req: FastifyRequest, origin: string) {
  req.log.warn({ origin, method: req.method, url: req.url.split('?')[0] }, 'refused a cross-origin browser request');
  return new AppError(
    'cross_origin_refused',
    `${req.method} ${req.url.split('?')[0]} from origin ${origin} is refused: browsers on other origins may not change anything here; add the origin to CORS_ORIGINS to allow it`,
    403,
  );
}
