/**
 * Helpers shared by this app's tests (not exported from index.ts): a real local HTTP
 * server, a logger that records what it logs, and sample factories.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { pino, type Logger } from 'pino';
import type { ColdStartSample } from '@edgeworker/schema';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

export interface TestServer {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/**
 * node:http on 127.0.0.1, port 0. The handler gets the fully read (and gunzipped) body;
 * it may answer, destroy the socket or never answer.
 */
export function startTestServer(
  handler: (req: ReceivedRequest, res: ServerResponse, raw: IncomingMessage) => void,
): Promise<TestServer> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((raw, res) => {
    const chunks: Buffer[] = [];
    raw.on('data', (c: Buffer) => chunks.push(c));
    raw.on('end', () => {
      let buf = Buffer.concat(chunks);
      if (raw.headers['content-encoding'] === 'gzip') buf = gunzipSync(buf);
      const req: ReceivedRequest = {
        method: raw.method ?? '',
        url: raw.url ?? '',
        headers: raw.headers,
        body: buf.toString('utf8'),
        at: performance.now(),
      };
      requests.push(req);
      handler(req, res, raw);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        requests,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

export interface LogRecord {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A pino logger whose records land in an array (pino writes synchronously to `write`). */
export function captureLogger(level = 'debug'): { log: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const log = pino({ level }, { write: (line: string) => records.push(JSON.parse(line) as LogRecord) });
  return { log, records };
}

/** n samples with distinct, increasing timestamps; `tag` makes batches recognisable in line protocol. */
export function makeSamples(n: number, firstIndex = 0, popCode = 'FRA'): ColdStartSample[] {
  return Array.from({ length: n }, (_, k) => {
    const i = firstIndex + k;
    return {
      timeNs: 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n,
      popCode,
      city: 'Frankfurt',
      country: 'DE',
      tier: 'tier1',
      functionName: 'auth-check',
      coldStartTimeMs: 10 + i,
      latitude: 50.03,
      longitude: 8.56,
    };
  });
}

/** The timestamps found in a line protocol body, in order (the last token of each line). */
export function timestampsOf(body: string): bigint[] {
  return body
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => BigInt(l.slice(l.lastIndexOf(' ') + 1)));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until check() is true; fails the test after timeoutMs instead of hanging. */
export async function waitFor(check: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
