/**
 * API_TOKEN guard for writes and mutations. Accepts what InfluxDB clients send:
 * `Authorization: Bearer <t>` or `Token <t>`, HTTP basic auth with the token as
 * password, and the 1.x query parameter `p=<t>`.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError } from './errors.ts';

export function createTokenGuard(token: string | undefined) {
  if (!token) return async (_req: FastifyRequest) => undefined;
  const expected = Buffer.from(token);
  const same = (given: string) => {
    const b = Buffer.from(given);
    return b.length === expected.length && timingSafeEqual(b, expected);
  };
  return async (req: FastifyRequest) => {
    const header = req.headers.authorization ?? '';
    const [scheme = '', value = ''] = header.split(/\s+/, 2);
    const s = scheme.toLowerCase();
    if ((s === 'bearer' || s === 'token') && same(value)) return;
    if (s === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const password = decoded.slice(decoded.indexOf(':') + 1);
      if (same(password)) return;
    }
    const p = (req.query as Record<string, unknown> | undefined)?.p;
    if (typeof p === 'string' && same(p)) return;
    throw new AppError(
      'unauthorized',
      'this server requires a token: send Authorization: Bearer <API_TOKEN> (or Token <API_TOKEN>)',
      401,
    );
  };
}
