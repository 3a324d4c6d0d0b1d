/**
 * Cached overview requests per second: autocannon (100 connections, in a child process
 * so it does not share the servers' event loop) against GET /api/dashboard/overview of
 * the product, whose answer is in the query cache, and against a bare Fastify route
 * returning the same JSON object. Passes alternate (bare, product, bare, product) so a
 * load spike on this shared machine hits both; each side's figure is its total requests
 * over its total time.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import { runAlone, type BenchRow } from './lib.ts';
import { preload, startBenchApp } from './start-app.ts';

const CONNECTIONS = 100;
const SECONDS = 2;
const PASSES = 4;
const PATH = '/api/dashboard/overview';
const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

interface Result {
  requests: number;
  /** CPU (user + system) of this process, where both servers run, per request, in µs. */
  cpuUs: number;
  non2xx: number;
  errors: number;
}

async function cannon(url: string): Promise<Result> {
  const c0 = process.cpuUsage();
  const { stdout } = await promisify(execFile)(process.execPath, [AUTOCANNON, '-c', String(CONNECTIONS), '-d', String(SECONDS), '-j', '-n', url], {
    maxBuffer: 16 * 1024 * 1024,
    timeout: (SECONDS + 30) * 1000,
  });
  const r = JSON.parse(stdout) as { requests: { total: number }; non2xx: number; errors: number };
  const c = process.cpuUsage(c0);
  return { requests: r.requests.total, cpuUs: (c.user + c.system) / r.requests.total, non2xx: r.non2xx, errors: r.errors };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export async function run(): Promise<BenchRow[]> {
  const bench = await startBenchApp();
  const bare = Fastify();
  try {
    await preload(bench.base, 6);
    const res = await fetch(bench.base + PATH);
    if (res.status !== 200) throw new Error(`overview answered ${res.status}`);
    const body = (await res.json()) as object;
    bare.get(PATH, async () => body);
    await bare.listen({ host: '127.0.0.1', port: 0 });
    const bareUrl = `http://127.0.0.1:${(bare.server.address() as { port: number }).port}${PATH}`;

    let bareRequests = 0;
    let productRequests = 0;
    const bareCpu: number[] = [];
    const productCpu: number[] = [];
    for (let pass = 0; pass < PASSES; pass++) {
      const b = await cannon(bareUrl);
      const p = await cannon(bench.base + PATH);
      if (p.non2xx > 0 || p.errors > 0 || b.non2xx > 0 || b.errors > 0) {
        throw new Error(`failed requests: product ${p.non2xx} non-2xx, ${p.errors} errors; bare ${b.non2xx}, ${b.errors}`);
      }
      bareRequests += b.requests;
      productRequests += p.requests;
      bareCpu.push(b.cpuUs);
      productCpu.push(p.cpuUs);
    }
    const seconds = PASSES * SECONDS;
    const product = productRequests / seconds;
    const anchor = bareRequests / seconds;
    const ratio = product / anchor;
    return [
      {
        name: `cached overview (autocannon, ${CONNECTIONS} connections)`,
        value: Math.round(product),
        unit: 'req/s',
        anchor: { name: 'bare Fastify', value: Math.round(anchor) },
        ratio,
        goal: '>= 0.6x',
        ok: ratio >= 0.6,
      },
      // CPU per request of the server process: steadier than requests/s when other
      // processes compete for the two cores (a ratio above 1 here means more work).
      {
        name: '  server CPU per request',
        value: Math.round(mean(productCpu)),
        unit: 'µs',
        anchor: { name: 'bare Fastify', value: Math.round(mean(bareCpu)) },
        ratio: mean(productCpu) / mean(bareCpu),
      },
    ];
  } finally {
    await bare.close();
    await bench.stop();
  }
}

await runAlone({ run }, import.meta.url);
