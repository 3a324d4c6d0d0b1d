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
  let slowest = 0;
  const days = await store.popMajor.runOnce((ms) => ((slowest = Math.max(slowest, ms)), 0));
  const st = store.popMajor.stats();
  console.log(`re-laid ${days} table-days in ${st.chunks} chunks: ${((performance.now() - s) / 1000).toFixed(1)} s wall, slowest chunk ${slowest.toFixed(0)} ms`);
} finally {
  await store.close();
}
