/**
 * The real server for a bench module: buildApp on a temporary DATA_DIR, loopback, a
 * free port, no dashboard, silent logs, the detector off (its cron would add load at
 * random moments). `stop()` closes it and removes the directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeBatch } from '@edgeworker/line-protocol';
import { FUNCTIONS, POPS } from '@edgeworker/pops';
import type { ColdStartSample } from '@edgeworker/schema';
import { createGenerator, createLatencyModel, sampleToPoint } from '@edgeworker/generator';
import { buildApp, type App } from '../apps/server/src/app.ts';
import { loadConfig } from '../apps/server/src/config.ts';

export interface BenchApp {
  app: App;
  base: string;
  port: number;
  stop(): Promise<void>;
}

export async function startBenchApp(env: Record<string, string> = {}): Promise<BenchApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ewm-bench-'));
  const app = await buildApp(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', WEB_DIST_DIR: join(dataDir, 'none'), DETECTOR: 'off', ...env }));
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
  } catch (err) {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const { port } = app.server.address() as { port: number };
  return {
    app,
    base: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Writes `minutes` of the built-in generator's data (423 POPs × 5 functions every
 * 10 s, ending now) through /write, in gzip bodies of 20 ticks: a store that looks
 * like a running `npm start`.
 */
export async function preload(base: string, minutes: number, seed = 7): Promise<number> {
  const intervalMs = 10_000;
  const ticks = Math.ceil((minutes * 60_000) / intervalMs);
  let t = Date.now() - ticks * intervalMs;
  const gen = createGenerator({ pops: POPS, functions: FUNCTIONS, intervalMs, model: createLatencyModel({ seed }), now: () => t, onBatch: () => {} });
  let points = 0;
  for (let i = 0; i < ticks; i += 20) {
    const samples: ColdStartSample[] = [];
    for (let j = i; j < Math.min(ticks, i + 20); j++) {
      samples.push(...gen.tick());
      t += intervalMs;
    }
    const r = await fetch(`${base}/write?precision=ns`, { method: 'POST', body: gzipSync(encodeBatch(samples.map(sampleToPoint))), headers: { 'content-encoding': 'gzip' } });
    if (r.status !== 204) throw new Error(`preload write failed: ${r.status} ${await r.text()}`);
    points += samples.length;
  }
  return points;
}
