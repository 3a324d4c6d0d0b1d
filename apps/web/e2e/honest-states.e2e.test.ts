/**
 * What the dashboard claims while it waits, and how it is used from the keyboard, in a real
 * browser against the all-in-one (generator every second, detector off: nothing here needs it).
 * Every page's console errors and page errors are collected; the last test asserts none.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Page, Route } from 'playwright-core';
import { startStack, waitFor, writeSlowThenFast, type Stack } from './harness.ts';

let stack: Stack;

/** Holds the page's heatmap requests for `window` until `release()`; `requested` settles at the first. */
async function holdHeatmap(page: Page, window: string) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let seen!: () => void;
  const requested = new Promise<void>((r) => (seen = r));
  const handler = async (route: Route) => {
    seen();
    await released;
    await route.continue().catch(() => undefined);
  };
  const match = (u: URL) => u.pathname === '/api/heatmap' && u.searchParams.get('window') === window;
  await page.route(match, handler);
  return {
    requested,
    release: async () => {
      release();
      await page.unroute(match, handler);
    },
  };
}

const statusOf = (page: Page, pop: string) => page.locator(`[data-pop="${pop}"]`).getAttribute('data-status');

describe('dashboard states while loading, and the keyboard', { timeout: 300_000 }, () => {
  before(async () => {
    stack = await startStack({ GENERATOR_SEED: '11', DETECTOR: 'off' });
  });

  afterEach(async () => {
    await stack?.closePages();
  });

  after(async () => {
    await stack?.stop();
  });

  it('does not show the previous window under the new one while the new one loads', async () => {
    // healthy over 5 min, critical over 24 h (slow 3 h ago, fast now)
    const POP = 'ZZQ';
    await writeSlowThenFast(stack.url, { code: POP, city: 'Slowville', lat: -55, lon: -35 });

    const page = await stack.newPage();
    await page.goto(stack.url);
    await page.locator(`[data-pop="${POP}"][data-status="healthy"]`).waitFor({ timeout: 30_000 });

    // a 24 h answer that takes its time (as on a busy server with a day of history)
    const day = await holdHeatmap(page, '24h');
    await page.locator('[data-window="24h"]').click();
    await day.requested;
    await page.locator('.map-panel .panel-sub', { hasText: 'last 24 h' }).waitFor();
    assert.equal(await page.locator('[data-pop]').count(), 0, 'no 5 min marker under the 24 h caption');
    assert.equal(await page.locator(`tr[data-pop-row="${POP}"]`).count(), 0, 'no 5 min row in the table');
    await page.locator('[data-testid="map-loading"]', { hasText: 'Loading the last 24 h' }).waitFor({ timeout: 5_000 });
    assert.match(await page.locator('[data-testid="pop-count"]').innerText(), /loading/);

    await day.release();
    await page.locator(`[data-pop="${POP}"][data-status="critical"]`).waitFor({ timeout: 30_000 });
    await page.locator('[data-testid="map-resolution"]', { hasText: '1h rollups' }).waitFor({ timeout: 30_000 });

    // back to 5 min: the 24 h answer's "from 1h rollups" is not the 5 min map's
    const live = await holdHeatmap(page, '5m');
    await page.locator('[data-window="5m"]').click();
    await live.requested;
    await page.locator('.map-panel .panel-sub', { hasText: 'last 5 min' }).waitFor();
    assert.equal(await page.locator('[data-testid="map-resolution"]').count(), 0, 'no rollup note on the 5 min caption');
    assert.equal(await page.locator('[data-pop]').count(), 0, 'no 24 h marker under the 5 min caption');
    await live.release();
    await page.locator(`[data-pop="${POP}"][data-status="healthy"]`).waitFor({ timeout: 30_000 });
    assert.equal(await statusOf(page, POP), 'healthy');
  });

  it('draws no single warn/crit line on the chart of all functions, and the function’s own pair on one', async () => {
    const page = await stack.newPage();
    await page.goto(`${stack.url}/?pop=FRA`);
    const chart = page.locator('[data-testid="timeseries-chart"][data-loaded="true"]');
    await chart.waitFor({ timeout: 30_000 });
    // each function has its own pair (auth-check 60/120 … ssr-render 400/800): the default
    // 200/400 judges none of them, so a line there would contradict the POP's status
    assert.equal(await chart.getAttribute('data-thresholds'), '', 'no line drawn');
    await page.locator('[data-testid="chart-thresholds"]', { hasText: 'pick one' }).waitFor({ timeout: 10_000 });
    await page.locator('[data-testid="drilldown-function"]').selectOption('ssr-render');
    await page.locator('[data-testid="timeseries-chart"][data-thresholds="400/800"]').waitFor({ timeout: 10_000 });
    assert.match(await page.locator('[data-testid="chart-thresholds"]').innerText(), /ssr-render, 400 \/ 800 ms/);
  });

  it('makes the map one tab stop, with arrow keys from POP to POP that never revisit one', async () => {
    const page = await stack.newPage();
    await page.goto(stack.url);
    await page.waitForFunction(() => document.querySelectorAll('[data-pop]').length >= 250, null, { timeout: 60_000 });
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute('data-pop') ?? document.activeElement?.tagName ?? null);

    await page.locator('[data-testid="status-filter"]').focus();
    await page.keyboard.press('Tab');
    const first = await focused();
    assert.ok(first && /^[A-Z0-9]{3}$/.test(first), `Tab from the filters reaches the map (focused ${first})`);
    await page.locator('[data-testid="map-tooltip"]').waitFor();
    // the next Tab leaves the map (it used to walk through every POP first)
    await page.keyboard.press('Tab');
    const afterMap = await page.evaluate(() => document.activeElement?.closest('[data-pop]') === null);
    assert.ok(afterMap, `the second Tab left the map (focused ${await focused()})`);
    await page.keyboard.press('Shift+Tab');
    assert.equal(await focused(), first, 'Shift+Tab comes back to the same POP');

    // live updates (every second here) reorder the drawing; the arrow keys' order stays put
    const visited = [first];
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('ArrowRight');
      if (i % 10 === 0) await page.waitForTimeout(1_200);
      visited.push((await focused())!);
    }
    assert.equal(new Set(visited).size, visited.length, `no POP visited twice: ${visited.join(' ')}`);
    const target = visited.at(-1)!;
    await page.keyboard.press('Enter');
    await page.locator(`[data-pop-detail="${target}"]`).waitFor({ timeout: 10_000 });
    await page.keyboard.press('Escape');
    await waitFor('focus back on the marker', async () => ((await focused()) === target ? true : undefined), 5_000, 100);
  });

  it('lays the window selector out as styled: label apart from the buttons, at the right', async () => {
    // styles.css once lacked a "}" before the window bar's rules, which then nested under
    // .signin-submit:disabled and matched nothing ("Window" glued to "5 min", at the left)
    const page = await stack.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(stack.url);
    await page.locator('[data-window="5m"]').waitFor();
    const g = await page.evaluate(() => {
      const bar = document.querySelector('.window-bar')!.getBoundingClientRect();
      const label = document.querySelector('.window-bar-label')!.getBoundingClientRect();
      const first = document.querySelector('[data-window]')!.getBoundingClientRect();
      const last = [...document.querySelectorAll('[data-window]')].pop()!.getBoundingClientRect();
      return { gap: Math.round(first.left - label.right), rightSlack: Math.round(bar.right - last.right) };
    });
    assert.ok(g.gap >= 6, `label to buttons: ${g.gap} px`);
    assert.ok(g.rightSlack <= 2, `buttons end ${g.rightSlack} px before the bar's right edge`);
  });

  it('logged no console errors and no page errors', () => {
    assert.deepEqual(stack.errors, []);
  });
});
