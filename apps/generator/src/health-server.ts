/**
 * GET /health for the standalone generator, so an orchestrator can tell "running but
 * cannot write" from "fine". Plain node:http: one route does not need a framework.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WriterStats } from './buffered-writer.ts';

/** Failing for longer than this without a success turns the status to degraded. */
export const DEGRADED_AFTER_MS = 60_000;

export type HealthStats = WriterStats & Record<string, unknown>;

export interface HealthServerOptions {
  port: number;
  /** Default 127.0.0.1: health data is not for the whole network unless asked. */
  host?: string;
  stats: () => HealthStats;
  /** Clock in epoch ms; injectable so tests control "60 s ago". */
  now?: () => number;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export function healthStatus(stats: WriterStats, nowMs: number): 'ok' | 'degraded' {
  if (stats.consecutiveFailures === 0) return 'ok';
  const last = stats.lastSuccessAt === null ? Number.NaN : Date.parse(stats.lastSuccessAt);
  return Number.isNaN(last) || nowMs - last > DEGRADED_AFTER_MS ? 'degraded' : 'ok';
}

export function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const now = opts.now ?? Date.now;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (code: number, body: unknown, extra: Record<string, string> = {}): void => {
      const json = JSON.stringify(body);
      res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...extra });
      res.end(req.method === 'HEAD' ? undefined : json);
    };
    if (path !== '/health') {
      reply(404, { code: 'not_found', message: 'only GET /health is served here' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      reply(405, { code: 'method_not_allowed', message: 'use GET /health' }, { allow: 'GET, HEAD' });
      return;
    }
    try {
      const stats = opts.stats();
      const status = healthStatus(stats, now());
      reply(status === 'ok' ? 200 : 503, { status, ...stats });
    } catch (err) {
      reply(500, { code: 'stats_failed', message: `could not read generator stats: ${(err as Error).message}` });
    }
  });
  // Health checks should not keep a closing process alive on idle keep-alive sockets.
  server.keepAliveTimeout = 1000;

  const host = opts.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void =>
      reject(new Error(`health server cannot listen on ${host}:${opts.port}: ${err.message}`, { cause: err }));
    server.once('error', onError);
    server.listen(opts.port, host, () => {
      server.off('error', onError);
      const { port } = server.address() as AddressInfo;
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
