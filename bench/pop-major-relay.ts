/**
 * Re-lays every closed day of a kept week file POP-major now (what the store's background loop
 * does after a start on a file from before the layout), and prints what it cost: days, chunks,
 * wall time and the slowest chunk (a write waits behind at most one chunk).
 *
 *   npx tsx bench/pop-major-relay.ts <dir with metrics.duckdb>
 */
import { join } from 'node:path';
import { createDuckDbMetricsStore } from '../apps/server/src/stores/duckdb/duckdb-metrics-store.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: pop-major-relay.ts <dir>');
const store = await createDuckDbMetricsStore({ path: join(dir, 'metrics.duckdb'), warmBlocksHours: 0, rollupDelayMs: 86_400_000, popMajorDelayMs: null });
try {
  const s = performance.now();
  const chunks: number[] = [];
  // RELAY_MAX_BLOCKS=n: stop after about n blocks (the newest: what a running server re-lays in a day is a day and its quarters).
  const max = Number(process.env.RELAY_MAX_BLOCKS ?? Infinity);
  const blocks = await store.popMajor.runOnce((ms) => {
    chunks.push(ms);
    if (store.popMajor.stats().blocksDone >= max) store.popMajor.stop();
    return 0;
  });
  const st = store.popMajor.stats();
  const sorted = [...chunks].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(0);
  console.log(`re-laid ${Math.max(blocks, st.blocksDone)} blocks (a table's day or quarter) in ${st.chunks} chunks: ${((performance.now() - s) / 1000).toFixed(1)} s wall; chunk ms median ${at(0.5)}, p90 ${at(0.9)}, max ${at(1)}`);
} finally {
  await store.close();
}
