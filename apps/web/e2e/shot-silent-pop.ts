// Screenshots of a silent POP for docs/screenshots (npx tsx apps/web/e2e/shot-silent-pop.ts). Not a test.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { POPS } from '@edgeworker/pops';
import { loadConfig } from '../../server/src/config.ts';
import { startAllInOne } from '../../server/src/all-in-one.ts';
import { buildDashboard, CHROMIUM } from './harness.ts';

const tmp = mkdtempSync(join(tmpdir(), 'ewm-shot-'));
const dist = join(tmp, 'web');
buildDashboard(dist);
const config = loadConfig({ DATA_DIR: join(tmp, 'data'), HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', WEB_DIST_DIR: dist, GENERATOR: 'off', DETECTOR_SCHEDULE: '0 0 1 1 *', DETECTOR_EARLY: 'off' });
const product = await startAllInOne(config);
const addr = product.app.server.address() as { port: number };
const url = `http://127.0.0.1:${addr.port}`;
const now = Date.now();
const fns = [['auth-check', 25], ['geo-router', 32], ['api-gateway', 55], ['image-resize', 130], ['ssr-render', 170]] as const;
const pops = POPS.filter((p) => p.tier === 'tier1' || ['DE', 'FR', 'NL', 'GB', 'IT', 'ES'].includes(p.country)).slice(0, 150);
const lines: string[] = [];
for (let t = now - 20 * 60_000; t <= now; t += 10_000) {
  for (const p of pops) {
    if (p.code === 'FRA' && t > now - 4 * 60_000) continue; // FRA went silent 4 min ago: samples in the 5 min window, none since
    for (const [fn, ms] of fns) lines.push(`cold_start_metrics,pop_code=${p.code},function_name=${fn} cold_start_time_ms=${(ms * (0.85 + Math.random() * 0.3)).toFixed(1)} ${t}`);
  }
}
for (let i = 0; i < lines.length; i += 50_000) {
  const r = await fetch(`${url}/write?db=edgeworker&precision=ms`, { method: 'POST', body: lines.slice(i, i + 50_000).join('\n') });
  if (r.status !== 204) throw new Error(await r.text());
}
const pass = await (await fetch(`${url}/api/detector/run`, { method: 'POST' })).json();
console.log('pass', JSON.stringify(pass).slice(0, 300));
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
await page.goto(`${url}/?country=DE`);
await page.waitForSelector('[data-pop="FRA"]', { timeout: 15_000 });
await page.waitForTimeout(1500);
const marker = page.locator('[data-pop="FRA"]').first();
await marker.focus();
await page.waitForSelector('[data-testid="map-tooltip"]', { timeout: 5000 }).catch(() => undefined);
await page.screenshot({ path: 'docs/screenshots/silent-pop-map.png' });
await page.goto(`${url}/?view=alerts`);
await page.waitForTimeout(1500);
await page.screenshot({ path: 'docs/screenshots/silent-pop-alert.png' });
await browser.close();
await product.stop();
process.exit(0);
