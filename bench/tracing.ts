/**
 * What tracing costs: a cached read (GET /api/heatmap, 8 requests in flight) and ingest
 * over HTTP, on the same app with tracing off and with tracing on, exporting every span
 * as OTLP/JSON to a receiver on loopback. Measured as CPU time of this process (client,
 * server and exporter alike) per request and per 1000 points: on a shared, loaded
 * machine wall-clock throughput swung 0.3–0.75 on/off between identical runs, CPU time
 * much less. Off is the path every deployment without OTEL_* variables runs. Bounded: a
 * fixed number of requests per measurement and a time cap.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { encodeBatch } from '@edgeworker/line-protocol';
import { FUNCTIONS, POPS } from '@edgeworker/pops';
import { createGenerator, createLatencyModel, sampleToPoint } from '@edgeworker/generator';
import { buildApp } from '../apps/server/src/app.ts';
import { loadConfig } from '../apps/server/src/config.ts';
import { startOtlpReceiver } from '../apps/server/src/testing/otlp-receiver.ts';
import { runAlone, type BenchRow } from './lib.ts';

const READS = 2000;
const CONCURRENCY = 8;
const WRITES = 30;
const CAP_MS = 15_000;

export function bodies(): string[] {
  let t = Date.now() - WRITES * 10_000;
  const gen = createGenerator({ pops: POPS, functions: FUNCTIONS, intervalMs: 10_000, model: createLatencyModel({ seed: 3 }), now: () => t, onBatch: () => {} });
  const out: string[] = [];
  for (let i = 0; i < WRITES; i++) {
    out.push(encodeBatch(gen.tick().map(sampleToPoint)));
    t += 10_000;
  }
  return out;
}

export async function measure(env: Record<string, string>, writes: string[]) {
  const dataDir = mkdtempSync(join(tmpdir(), 'ewm-bench-tracing-'));
  const app = await buildApp(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', WEB_DIST_DIR: join(dataDir, 'none'), DETECTOR: 'off', ...env }));
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    for (const body of writes.slice(0, 5)) await fetch(`${base}/write?precision=ns`, { method: 'POST', body }); // warm-up
    let points = 0;
    const w0 = performance.now();
    const wc = process.cpuUsage();
    for (const body of writes) {
      const r = await fetch(`${base}/write?precision=ns`, { method: 'POST', body });
      if (r.status !== 204) throw new Error(`write: ${r.status}`);
      points += body.split('\n').length;
    }
    const ingest = points / ((performance.now() - w0) / 1000);
    const wcpu = process.cpuUsage(wc);
    const ingestCpuMsPer1000 = ((wcpu.user + wcpu.system) / 1000 / points) * 1000;
    const read = async () => {
      const r = await fetch(`${base}/api/heatmap?window=5m`);
      if (r.status !== 200) throw new Error(`read: ${r.status}`);
      await r.arrayBuffer();
    };
    for (let i = 0; i < 100; i++) await read(); // warm-up: JIT, cache entry
    let done = 0;
    const r0 = performance.now();
    const rc = process.cpuUsage();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (done < READS && performance.now() - r0 < CAP_MS) {
          done++;
          await read();
        }
      }),
    );
    // Exporting is part of the cost: flush inside the measured CPU time.
    await app.services.tracing?.flush();
    const reads = done / ((performance.now() - r0) / 1000);
    const rcpu = process.cpuUsage(rc);
    return { ingest, reads, readCpuUs: (rcpu.user + rcpu.system) / done, ingestCpuMsPer1000 };
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchRow[]> {
  const cleanups: (() => unknown)[] = [];
  const otlp = await startOtlpReceiver({ after: (fn: () => unknown) => cleanups.push(fn) } as unknown as TestContext);
  try {
    const writes = bodies();
    // off, on, off: the better of the two offs is the anchor, so warming up does not flatter tracing.
    const off1 = await measure({}, writes);
    const on = await measure({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, writes);
    const off2 = await measure({}, writes);
    const off = {
      reads: Math.max(off1.reads, off2.reads),
      ingest: Math.max(off1.ingest, off2.ingest),
      readCpuUs: Math.min(off1.readCpuUs, off2.readCpuUs),
      ingestCpuMsPer1000: Math.min(off1.ingestCpuMsPer1000, off2.ingestCpuMsPer1000),
    };
    if (otlp.spans.length === 0) throw new Error('tracing on exported no span');
    const r = (x: number) => Math.round(x);
    const r1 = (x: number) => Math.round(x * 10) / 10;
    return [
      { name: 'heatmap (cached), tracing off', value: r(off.reads), unit: 'req/s' },
      { name: 'heatmap (cached), tracing on', value: r(on.reads), unit: 'req/s', anchor: { name: 'off', value: r(off.reads) }, ratio: on.reads / off.reads },
      { name: 'heatmap (cached) CPU per request, tracing off', value: r(off.readCpuUs), unit: 'µs' },
      { name: `heatmap (cached) CPU per request, tracing on (${otlp.spans.length} spans exported)`, value: r(on.readCpuUs), unit: 'µs', anchor: { name: 'off', value: r(off.readCpuUs) }, ratio: on.readCpuUs / off.readCpuUs, goal: '<= 1.25', ok: on.readCpuUs / off.readCpuUs <= 1.25 },
      { name: 'ingest, tracing off', value: r(off.ingest), unit: 'points/s' },
      { name: 'ingest CPU per 1000 points, tracing off', value: r1(off.ingestCpuMsPer1000), unit: 'ms' },
      { name: 'ingest CPU per 1000 points, tracing on', value: r1(on.ingestCpuMsPer1000), unit: 'ms', anchor: { name: 'off', value: r1(off.ingestCpuMsPer1000) }, ratio: on.ingestCpuMsPer1000 / off.ingestCpuMsPer1000, goal: '<= 1.1', ok: on.ingestCpuMsPer1000 / off.ingestCpuMsPer1000 <= 1.1 },
    ];
  } finally {
    for (const c of cleanups) await c();
  }
}

await runAlone({ run }, import.meta.url);
