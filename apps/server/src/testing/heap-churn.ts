/**
 * Fixture for heap-growth.test.ts: a live set of ~100k objects kept, garbage of the same kind
 * made and dropped 120 times; prints the JS heap's largest size (MiB). HEAP_GROWING_PERCENT set:
 * limitHeapGrowth with it first, as the server's entry points do.
 */
import { limitHeapGrowth } from '../bin/run.ts';

if (process.env.HEAP_GROWING_PERCENT) limitHeapGrowth(Number(process.env.HEAP_GROWING_PERCENT));
const live: Array<Array<{ j: number }>> = [];
for (let i = 0; i < 10; i++) live.push(Array.from({ length: 1e5 }, (_, j) => ({ j })));
let peak = 0;
for (let r = 0; r < 120; r++) {
  Array.from({ length: 1e5 }, (_, j) => ({ j, s: `x${j}` }));
  peak = Math.max(peak, process.memoryUsage().heapTotal);
}
process.stdout.write(`${JSON.stringify({ peakHeapMiB: Math.round(peak / 2 ** 20), live: live.length })}\n`);
