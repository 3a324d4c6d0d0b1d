/**
 * For tests of the rolled-up answers on a real DuckDB file: a temporary directory removed
 * after the test, and a store in it holding the given samples, rolled up. Its rollup step
 * runs only when asked (a delay of an hour), it re-lays no day POP-major unless asked, and it warms nothing at start, so whatever a test
 * finds in memory is what the test itself loaded. Shared by the per-POP block, POP-period
 * and per-series block tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { ColdStartSample } from '@edgeworker/schema';
import { createDuckDbMetricsStore, type DuckDbMetricsStore } from './duckdb-metrics-store.ts';

export function tempDir(t: TestContext, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function rolledUpStore(
  t: TestContext,
  dir: string,
  samples: readonly ColdStartSample[],
  opts: { now: number; file?: string; popBlockCache?: boolean },
): Promise<DuckDbMetricsStore> {
  const store = await createDuckDbMetricsStore({ path: join(dir, opts.file ?? 'metrics.duckdb'), now: () => opts.now, rollupDelayMs: 3_600_000, warmBlocksHours: 0, popMajorDelayMs: null, popBlockCache: opts.popBlockCache });
  t.after(() => store.close());
  // In bodies of 5,000, as a writer sends them.
  for (let i = 0; i < samples.length; i += 5000) await store.write(samples.slice(i, i + 5000));
  await store.rollups.flush();
  return store;
}
