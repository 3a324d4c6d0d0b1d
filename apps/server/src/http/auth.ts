/**
 * Who may do what. Three tokens, each optional:
 * - API_TOKEN: writes and mutations (ingest, acknowledge/resolve, detector run); also reads.
 * - VIEWER_TOKEN: when set, every read (the /api/* reads, /ws, /health details) needs it
 *   or API_TOKEN; it never writes or mutates (403).
 * - METRICS_TOKEN: when set, /metrics needs it (or API_TOKEN).
 * A token is accepted as InfluxDB clients send it: `Authorization: Bearer <t>` or
 * `Token <t>`, HTTP basic auth with the token as password, the 1.x query parameter
 * `p=<t>`; and, for browsers (which cannot set headers on a WebSocket), as the
 * WebSocket subprotocol `base64url.bearer.<base64url(t)>`, the way Kubernetes does it.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from './errors.ts';

export type Guard = (req: FastifyRequest) => Promise<void>;

export interface AccessOptions {
  apiToken: string | undefined;
  viewerToken?: string | undefined;
  metricsToken?: string | undefined;
}

export interface Access {
  /** Writes and mutations: API_TOKEN only. */
  write: Guard;
  /** Reads: open, or the viewer token or API_TOKEN when VIEWER_TOKEN is set. */
  read: Guard;
  /** /metrics: open, or METRICS_TOKEN or API_TOKEN when METRICS_TOKEN is set. */
  metrics: Guard;
  /** Whether this request may see read-protected details (everyone when VIEWER_TOKEN is unset). */
  canRead(req: FastifyRequest): boolean;
  /** Whether this request may write and mutate (everyone when API_TOKEN is unset). */
  canWrite(req: FastifyRequest): boolean;
  /** Whether reads need a token at all. */
  readsProtected: boolean;
}

/** The subprotocol prefix a browser uses to carry its token on /ws. */
export const WS_TOKEN_PROTOCOL_PREFIX = 'base64url.bearer.';

export function createAccess(opts: AccessOptions): Access {
  const api = matcher(opts.apiToken);
  const viewer = matcher(opts.viewerToken);
  const metricsToken = matcher(opts.metricsToken);
  const presents = (req: FastifyRequest, m: Matcher | undefined) => m !== undefined && presentedTokens(req).some(m);

  const write: Guard = async (req) => {
    if (!api || presents(req, api)) return;
    if (presents(req, viewer)) throw new AppError('forbidden', 'the viewer token is read-only: writes and changes need API_TOKEN', 403);
    throw new AppError('unauthorized', 'this server requires a token: send Authorization: Bearer <API_TOKEN> (or Token <API_TOKEN>)', 401);
  };
  const canRead = (req: FastifyRequest) => !viewer || presents(req, viewer) || presents(req, api);
  const read: Guard = async (req) => {
    if (canRead(req)) return;
    throw new AppError('unauthorized', 'this server is private: send Authorization: Bearer <VIEWER_TOKEN> (or API_TOKEN), or sign in on the dashboard', 401);
  };
  const metrics: Guard = async (req) => {
    if (!metricsToken || presents(req, metricsToken) || presents(req, api)) return;
    throw new AppError('unauthorized', '/metrics requires METRICS_TOKEN: configure the scraper with authorization: {credentials: <METRICS_TOKEN>}', 401);
  };
  const canWrite = (req: FastifyRequest) => !api || presents(req, api);
  return { write, read, metrics, canRead, canWrite, readsProtected: viewer !== undefined };
}

/** Kept for the routes that only know about API_TOKEN. */
export function createTokenGuard(token: string | undefined): Guard {
  return createAccess({ apiToken: token }).write;
}

/**
 * With VIEWER_TOKEN set, guards every read the server has, present and future, by
 * path: GET /api/* (the OpenAPI document excepted) and /ws. Routes answer what they
 * answer to the rest: /health (details trimmed by the route), /metrics (its own guard),
 * /docs, the dashboard's files (which hold no data: they ask for a token on first 401),
 * and writes and mutations (their own API_TOKEN guard).
 */
export function registerReadGuard(app: FastifyInstance, access: Access) {
  if (!access.readsProtected) return;
  app.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return;
    const path = req.url.split('?', 1)[0]!;
    if (path === '/api/openapi.json' || path === '/api/session') return;
    if (path.startsWith('/api/')) await access.read(req);
    // A refused upgrade: the HTTP server let go of this socket when it saw the upgrade, so nothing
    // else would ever close it; end it once the 401 is written.
    if (path === '/ws' && !access.canRead(req)) {
      reply.header('connection', 'close');
      reply.raw.once('finish', () => req.raw.socket.end());
      await access.read(req);
    }
  });
}

type Matcher = (given: string) => boolean;

function matcher(token: string | undefined): Matcher | undefined {
  if (!token) return undefined;
  const expected = Buffer.from(token);
  return (given) => {
    const b = Buffer.from(given);
    return b.length === expected.length && timingSafeEqual(b, expected);
  };
}

/** Every token the request carries, in each of the accepted forms. */
function presentedTokens(req: FastifyRequest): string[] {
  const out: string[] = [];
  const header = req.headers.authorization ?? '';
  const [scheme = '', value = ''] = header.split(/\s+/, 2);
  const s = scheme.toLowerCase();
  if (s === 'bearer' || s === 'token') out.push(value);
  if (s === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    out.push(decoded.slice(decoded.indexOf(':') + 1));
  }
  const p = (req.query as Record<string, unknown> | undefined)?.p;
  if (typeof p === 'string') out.push(p);
  const protocols = req.headers['sec-websocket-protocol'];
  if (typeof protocols === 'string') {
    for (const proto of protocols.split(',').map((x) => x.trim())) {
      if (proto.startsWith(WS_TOKEN_PROTOCOL_PREFIX)) out.push(Buffer.from(proto.slice(WS_TOKEN_PROTOCOL_PREFIX.length), 'base64url').toString('utf8'));
    }
  }
  return out;
}

/**
 * GET /api/session: what the caller's token allows, always 200, so the dashboard can
 * decide between its sign-in form and the app, and check a token typed into the form,
 * without provoking a 401 (which browsers log as an error).
 */
export async function sessionRoute(app: FastifyInstance, opts: { access: Access; apiTokenSet: boolean }) {
  app.get('/api/session', {
    schema: {
      summary: "What the caller's token allows: none, read, or write (which includes read)",
      tags: ['ops'],
      response: {
        200: {
          type: 'object',
          required: ['access', 'readRequiresToken', 'writeRequiresToken'],
          properties: {
            access: { type: 'string', enum: ['none', 'read', 'write'] },
            readRequiresToken: { type: 'boolean' },
            writeRequiresToken: { type: 'boolean' },
          },
        },
      },
    },
  }, async (req) => ({
    access: opts.access.canWrite(req) ? 'write' : opts.access.canRead(req) ? 'read' : 'none',
    readRequiresToken: opts.access.readsProtected,
    writeRequiresToken: opts.apiTokenSet,
  }));
}
