/**
 * `npx tsx apps/web/e2e/screenshot-7d.ts`: the dashboard's 7 d drill-down with a week of
 * data, saved as docs/rollups-7d-drilldown.png.
 *
 * With `SHOT_URL` set (e.g. `SHOT_URL=http://127.0.0.1:8080` beside a server started with
 * `GENERATOR_BACKFILL=7d npm start`, once its backfill has finished), the picture is of that
 * server: the real path, a week at the default rate written through the store's write path.
 * Without it, a week of the generator's model for every POP and function at one sample per
 * 5 minutes (4.3M points, so it loads in about a minute here) goes straight into the store,
 * is rolled up, and the all-in-one then runs on that DATA_DIR with its live generator.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FUNCTIONS, POPS } from '@edgeworker/pops';
import type { ColdStartSample } from '@edgeworker/schema';
import { createGenerator, createLatencyModel } from '@edgeworker/generator';
import { chromium, type Page } from 'playwright-core';
import { createDuckDbMetricsStore } from '../../server/src/stores/duckdb/duckdb-metrics-store.ts';
import { CHROMIUM, startStack } from './harness.ts';

const OUT = fileURLToPath(new URL('../../../docs/rollups-7d-drilldown.png', import.meta.url));
const STEP = 300_000;

async function shoot(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/?pop=FRA&range=7d&window=7d`);
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid="timeseries-chart"]')?.getAttribute('data-points-with-samples')) > 150,
    null,
    { timeout: 60_000 },
  );
  await page.locator('[data-testid="map-resolution"]').waitFor({ timeout: 30_000 });
  await page.waitForTimeout(1000); // let the last frame of the chart settle
  await page.screenshot({ path: OUT });
  console.log(`saved ${OUT}`);
}

if (process.env.SHOT_URL) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark', deviceScaleFactor: 1 });
    await shoot(await context.newPage(), process.env.SHOT_URL.replace(/\/$/, ''));
  } finally {
    await browser.close();
  }
  process.exit(0);
}

const dataDir = mkdtempSync(join(tmpdir(), 'ewm-shot-'));
try {
  const store = await createDuckDbMetricsStore({ path: join(dataDir, 'metrics.duckdb'), rollupDelayMs: 3_600_000 });
  const end = Math.floor(Date.now() / STEP) * STEP - STEP;
  let t = end - 7 * 86_400_000;
  const gen = createGenerator({ pops: POPS, functions: FUNCTIONS, intervalMs: STEP, model: createLatencyModel({ seed: 3 }), now: () => t, onBatch: () => {} });
  while (t <= end) {
    const batch: ColdStartSample[] = [];
    for (let i = 0; i < 200 && t <= end; i++, t += STEP) batch.push(...gen.tick());
    await store.write(batch);
  }
  await store.rollups.flush();
  await store.close();

  const stack = await startStack({ DATA_DIR: dataDir, DETECTOR: 'off', LOG_LEVEL: 'error' });
  try {
    await shoot(await stack.newPage(), stack.url);
  } finally {
    await stack.stop();
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
