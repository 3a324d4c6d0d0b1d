/**
 * Freshness: from the start of a POST /write to the `metrics_update` that includes it
 * arriving at a WebSocket client. The hub coalesces updates to one a second, so a write
 * waits up to `coalesceMs` for its slot; the goal is what comes on top of that (ingest,
 * the overview query after the cache version bump, serialising and sending).
 *
 * The store holds 15 minutes of the generator's data (like a running `npm start`); then
 * WRITES writes of one generator tick each (2,115 points, the newest timestamp so far)
 * arrive at jittered gaps of 100–900 ms, so some land just after an update (the worst
 * case: a full coalescing wait) and some while the hub is idle. An update covers write i
 * once its `latestSampleAt` reaches write i's timestamp.
 */
import WebSocket from 'ws';
import { encodeBatch } from '@edgeworker/line-protocol';
import { FUNCTIONS, POPS } from '@edgeworker/pops';
import { createGenerator, createLatencyModel, sampleToPoint } from '@edgeworker/generator';
import type { ServerMessage } from '@edgeworker/schema';
import { percentile, runAlone, type BenchRow } from './lib.ts';
import { preload, startBenchApp } from './start-app.ts';

const WRITES = 40;
const COALESCE_MS = 1000; // config.live.coalesceMs
const BUDGET_MS = 250;

export async function run(): Promise<BenchRow[]> {
  const bench = await startBenchApp();
  const ws = new WebSocket(`ws://127.0.0.1:${bench.port}/ws`);
  try {
    await preload(bench.base, 15);
    await new Promise<void>((resolve, reject) => {
      ws.once('message', () => resolve()); // the hello
      ws.once('error', reject);
    });

    const pending: Array<{ tsMs: number; startedAt: number }> = [];
    const latencies: number[] = [];
    const acks: number[] = [];
    let coveredAll: (() => void) | undefined;
    ws.on('message', (raw) => {
      const at = performance.now();
      const msg = JSON.parse(String(raw)) as ServerMessage;
      if (msg.type !== 'metrics_update' || !msg.data.latestSampleAt) return;
      const latest = Date.parse(msg.data.latestSampleAt);
      while (pending.length > 0 && pending[0]!.tsMs <= latest) latencies.push(at - pending.shift()!.startedAt);
      if (latencies.length === WRITES) coveredAll?.();
    });

    let t = Date.now();
    const gen = createGenerator({ pops: POPS, functions: FUNCTIONS, intervalMs: 10_000, model: createLatencyModel({ seed: 11 }), now: () => t, onBatch: () => {} });
    let seed = 12345;
    const jitter = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), 100 + (seed % 800));
    for (let i = 0; i < WRITES; i++) {
      t = Date.now();
      const samples = gen.tick(); // at least 1 ms after the previous tick
      const body = encodeBatch(samples.map(sampleToPoint));
      const entry = { tsMs: Number(samples[0]!.timeNs / 1_000_000n), startedAt: performance.now() };
      pending.push(entry);
      const r = await fetch(`${bench.base}/write?precision=ns`, { method: 'POST', body });
      if (r.status !== 204) throw new Error(`write answered ${r.status}: ${await r.text()}`);
      acks.push(performance.now() - entry.startedAt);
      await new Promise((r) => setTimeout(r, jitter()));
    }
    if (latencies.length < WRITES) {
      await new Promise<void>((resolve, reject) => {
        coveredAll = resolve;
        setTimeout(() => reject(new Error(`only ${latencies.length} of ${WRITES} writes reached the WebSocket client within 10 s`)), 10_000).unref();
      });
    }
    const p50 = percentile(latencies, 0.5);
    const p99 = percentile(latencies, 0.99);
    const goal = COALESCE_MS + BUDGET_MS;
    return [
      { name: `freshness write → ws p50 (${WRITES} writes)`, value: Math.round(p50), unit: 'ms' },
      { name: `freshness write → ws p99 (${WRITES} writes)`, value: Math.round(p99), unit: 'ms', goal: `<= ${goal} (1 s + ${BUDGET_MS})`, ok: p99 <= goal },
      // The part of it before the data is stored (the 204): the rest is coalescing, the overview query and the send.
      { name: '  of which write → 204, p99', value: Math.round(percentile(acks, 0.99)), unit: 'ms' },
    ];
  } finally {
    ws.terminate();
    await bench.stop();
  }
}

await runAlone({ run }, import.meta.url);
