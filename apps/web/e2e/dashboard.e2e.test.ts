/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against
 * the real all-in-one: built-in generator every second, detector every 5 s, and a
 * latency regression injected by the generator for FRA / ssr-render. Every page's
 * console errors and page errors are collected; the last test asserts there were none.
 * Screenshots land in apps/web/e2e/artifacts/.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Page, WebSocketRoute } from 'playwright-core';
import { getJson, screenshot, startStack, waitFor, writeLine, writeSlowThenFast, type Stack } from './harness.ts';
import { SCROLL_THROUGH_TABLE, type ScrollFigures } from './page-scripts.ts';

/** A POP alone in the South Pacific, so clicking its marker cannot hit a neighbour. */
const LONE_POP = 'ZZT';
const INJECTED = { pop: 'FRA', fn: 'ssr-render' };

interface AlertLike {
  id: string;
  popCode: string;
  functionName: string;
  status: string;
}

let stack: Stack;

const markerCount = (page: Page) => page.locator('[data-pop]').count();
const search = (page: Page) => new URL(page.url()).searchParams;

describe('dashboard in Chromium against the all-in-one', { timeout: 420_000 }, () => {
  before(async () => {
    stack = await startStack({
      GENERATOR_SEED: '7',
      DETECTOR_SCHEDULE: '*/5 * * * * *',
      // short windows so a regression is judged about a minute after start (the file must
      // finish within run-tests' 180 s per file, so the tests before the alert one run meanwhile)
      DETECTOR_RECENT_WINDOW: '20s',
      DETECTOR_BASELINE_WINDOW: '40s',
      DETECTOR_RESOLVE_AFTER: '60s',
      // one bucket per generator sample (1 s), so the 40 s baseline holds the 20 buckets it needs
      DETECTOR_STEP: '1s',
      GENERATOR_INJECT: `pops=${INJECTED.pop};functions=${INJECTED.fn};factor=5;start=+45s;duration=1h`,
      // the detector's own warnings (a pass skipped while the previous one runs) are noise here
      LOG_LEVEL: 'error',
    });
  });

  afterEach(async () => {
    await stack?.closePages();
  });

  after(async () => {
    await stack?.stop();
  });

  it('shows every POP on the map, live', async () => {
    const page = await stack.newPage();
    await page.goto(stack.url);
    await page.waitForFunction(() => document.querySelectorAll('[data-pop]').length >= 250, null, { timeout: 60_000 });
    assert.ok((await markerCount(page)) >= 250);
    await page.locator('[data-connection="live"]').waitFor();
    await page.locator('[data-testid="updated-ago"]', { hasText: /updated/ }).waitFor();
    // each status is told by shape and text too: the legend names them
    assert.match(await page.locator('.legend').innerText(), /Healthy[\s\S]*Warning[\s\S]*Critical[\s\S]*No data/);
    // percentile cards carry a trend line once a few updates have arrived
    await page.waitForFunction(() => document.querySelector('[data-testid="card-p95"] .sparkline path') !== null, null, {
      timeout: 30_000,
    });
    await screenshot(page, '01-overview-desktop');
  });

  it('changes a value live after a write, without reload', async () => {
    const page = await stack.newPage();
    await page.goto(stack.url);
    const total = page.locator('[data-testid="card-total-pops-value"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-pop]').length >= 250, null, { timeout: 60_000 });
    // The overview arrives on its own request: on a busy machine the map can be drawn while
    // the card still shows its placeholder (a dash, read as 0 below), so wait for a number.
    await page.waitForFunction(() => /\d/.test(document.querySelector('[data-testid="card-total-pops-value"]')?.textContent ?? ''), null, { timeout: 30_000 });
    const before = Number((await total.innerText()).replace(/\D/g, ''));
    assert.ok(before >= 250, `total POPs card shows ${before}`);
    await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));

    await writeLine(
      stack.url,
      `cold_start_metrics,pop_code=${LONE_POP},city=Nowhere,country=PF,tier=tier3,function_name=ssr-render cold_start_time_ms=950,latitude=-40,longitude=-130 ${Date.now()}`,
    );
    await page.locator(`[data-pop="${LONE_POP}"]`).waitFor({ timeout: 15_000 });
    await page.waitForFunction(
      (n) => Number(document.querySelector('[data-testid="card-total-pops-value"]')?.textContent?.replace(/\D/g, '')) === n,
      before + 1,
      { timeout: 15_000 },
    );
    // the same document: nothing reloaded
    assert.equal(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload), true);
    assert.equal(await page.locator(`[data-pop="${LONE_POP}"]`).getAttribute('data-status'), 'critical');
    await screenshot(page, '02-live-new-pop');
  });

  it('switches the window of the map, cards and table, and keeps it in the URL', async () => {
    // A POP that was slow for a while 3 hours ago and is fast now: healthy over 5 min, critical
    // over 24 h. (It reports now: a POP silent for NO_DATA_AFTER is no_data in every window.)
    const OLD_POP = 'ZZO';
    await writeSlowThenFast(stack.url, { code: OLD_POP, city: 'Oldtown', lat: -58, lon: -30 });
    const page = await stack.newPage();
    await page.goto(stack.url);
    const marker = page.locator(`[data-pop="${OLD_POP}"]`);
    await marker.waitFor({ timeout: 30_000 });
    assert.equal(await marker.getAttribute('data-status'), 'healthy');
    assert.equal(await page.locator('[data-window="5m"]').getAttribute('aria-pressed'), 'true');
    const hint = page.locator('[data-testid="card-average-cold-start"]');
    await hint.filter({ hasText: 'last 5m' }).waitFor();

    await page.locator('[data-window="24h"]').click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('window') === '24h');
    await page.locator(`[data-pop="${OLD_POP}"][data-status="critical"]`).waitFor({ timeout: 15_000 });
    await hint.filter({ hasText: 'last 24h' }).waitFor({ timeout: 15_000 });
    // the table follows the same window
    await page.locator('[data-testid="status-filter"]').selectOption('critical');
    await page.locator(`tr[data-pop-row="${OLD_POP}"]`).waitFor({ timeout: 15_000 });
    await page.locator('[data-testid="status-filter"]').selectOption('');
    // the server says when rollups answered (the old sample's minute is rolled up a second after it lands)
    await page.locator('[data-testid="map-resolution"]', { hasText: '1h rollups' }).waitFor({ timeout: 30_000 });
    await screenshot(page, '02b-window-24h');

    // a reload (or a shared link) restores the window
    await page.reload();
    await page.locator(`[data-pop="${OLD_POP}"][data-status="critical"]`).waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('[data-window="24h"]').getAttribute('aria-pressed'), 'true');
    await page.locator('[data-window="5m"]').click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('window') === null);
    await page.locator(`[data-pop="${OLD_POP}"][data-status="healthy"]`).waitFor({ timeout: 15_000 });
  });

  it('opens the drill-down from a marker, keeps it in the URL, and restores it from a shared link', async () => {
    const page = await stack.newPage();
    await page.goto(stack.url);
    const marker = page.locator(`[data-pop="${LONE_POP}"]`);
    await marker.waitFor({ timeout: 30_000 });

    const tooltip = page.locator('[data-testid="map-tooltip"]');
    // The layout can still shift while cards, trends and live data arrive, moving the marker
    // from under a pointer placed a moment earlier (the tooltip then shows and goes again): hover
    // until the tooltip shows and its text is read (bounded).
    let tip = '';
    for (let i = 0; i < 10 && !tip; i++) {
      await marker.hover();
      tip = await tooltip.innerText({ timeout: 2000 }).catch(() => '');
    }
    assert.ok(tip, 'the tooltip never showed on hover');
    for (const part of [LONE_POP, 'Nowhere', 'PF', 'tier3', 'Mean', 'p95', 'Samples']) assert.ok(tip.includes(part), `tooltip lacks ${part}: ${tip}`);

    // The same shifting layout can move the marker between the click's aim and its press: click
    // until the drill-down shows (bounded; selecting is idempotent, a second click cannot close it).
    const drill = page.locator('[data-testid="pop-drilldown"]');
    for (let i = 0; i < 5 && !(await drill.isVisible()); i++) {
      await marker.click();
      await drill.waitFor({ timeout: 8000 }).catch(() => undefined);
    }
    await drill.waitFor();
    assert.equal(search(page).get('pop'), LONE_POP);
    assert.equal(await drill.getAttribute('data-pop-detail'), LONE_POP);
    await page.locator('[data-testid="timeseries-chart"] canvas').first().waitFor();
    await drill.locator('.stats-grid').waitFor();

    await page.locator('[data-range="7d"]').click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('range') === '7d');
    // the lone sample shows on the 7-day chart
    await page.locator('[data-testid="timeseries-chart"][data-points-with-samples="1"]').waitFor();
    await screenshot(page, '03-drilldown');

    // Escape closes it and the URL forgets the POP
    await page.keyboard.press('Escape');
    await drill.waitFor({ state: 'detached' });
    assert.equal(search(page).get('pop'), null);

    // keyboard: focus shows the tooltip, Enter opens the drill-down
    await marker.focus();
    await tooltip.waitFor();
    await page.keyboard.press('Enter');
    await drill.waitFor();
    assert.equal(search(page).get('pop'), LONE_POP);

    // a shared link restores POP, range and function
    const shared = await stack.newPage();
    await shared.goto(`${stack.url}/?pop=${INJECTED.pop}&range=6h&function=${INJECTED.fn}`);
    await shared.locator(`[data-pop-detail="${INJECTED.pop}"]`).waitFor();
    assert.equal(await shared.locator('[data-range="6h"]').getAttribute('aria-pressed'), 'true');
    assert.equal(await shared.locator('[data-testid="drilldown-function"]').inputValue(), INJECTED.fn);
    assert.equal(await shared.locator('[data-testid="function-filter"]').inputValue(), INJECTED.fn);
    // the chart is drawn from real data of that POP and function
    await shared.waitForFunction(
      () => Number(document.querySelector('[data-testid="timeseries-chart"]')?.getAttribute('data-points-with-samples')) > 0,
      null,
      { timeout: 30_000 },
    );
  });

  it('filters the map and table, and the table is sortable and windowed', async () => {
    const page = await stack.newPage();
    await page.goto(stack.url);
    await page.waitForFunction(() => document.querySelectorAll('[data-pop]').length >= 250, null, { timeout: 60_000 });
    const all = await markerCount(page);

    // windowing: far fewer rows in the DOM than POPs
    const rows = await page.locator('tr[data-pop-row]').count();
    assert.ok(rows > 5 && rows < 60, `${rows} rows rendered for ${all} POPs`);
    // worst first by default: no later row has a worse status than an earlier one
    const order = ['no_data', 'healthy', 'warning', 'critical'];
    const statuses = await page.locator('tr[data-pop-row] [data-status]').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
    const ranks = statuses.map((s) => order.indexOf(s ?? ''));
    assert.deepEqual([...ranks].sort((a, b) => b - a), ranks, `rows not worst first: ${statuses.join(',')}`);

    // scrolling to the end renders the last rows
    await page.locator('.pop-scroll').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.waitForFunction(() => {
      const last = [...document.querySelectorAll('tr[data-pop-row]')].pop();
      return last?.getAttribute('aria-rowindex') === String(document.querySelector('[data-testid="pop-table"]')?.getAttribute('aria-rowcount'));
    });

    // sort by POP code (A→Z), kept in the URL
    await page.locator('button.sort[data-sort="pop"]').click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('sort') === 'pop');
    await page.locator('.pop-scroll').evaluate((el) => (el.scrollTop = 0));
    const codes = await page.locator('tr[data-pop-row] button.link').allInnerTexts();
    assert.deepEqual(codes, [...codes].sort((a, b) => a.localeCompare(b)));

    // tier filter narrows map and table and lands in the URL
    await page.locator('[data-testid="tier-filter"]').selectOption('tier1');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('tier') === 'tier1');
    await page.waitForFunction((n) => {
      const c = document.querySelectorAll('[data-pop]').length;
      return c > 0 && c < n;
    }, all);
    assert.match(await page.locator('[data-testid="pop-count"]').innerText(), /of/);
    await page.locator('[data-testid="country-filter"]').selectOption('DE');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('country') === 'DE');
    await screenshot(page, '04-filters');
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-pop]').length >= n, all);
  });

  it('switches between dark and light themes and remembers the choice', async () => {
    const page = await stack.newPage({ colorScheme: 'dark' });
    await page.goto(stack.url);
    const html = page.locator('html');
    await page.locator('[data-testid="theme-toggle"]').waitFor();
    assert.equal(await html.getAttribute('data-theme'), 'dark');
    const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const darkBg = await bg();
    const toggle = page.locator('[data-testid="theme-toggle"]');
    // system -> dark -> light
    await toggle.click();
    await toggle.click();
    assert.equal(await toggle.getAttribute('data-theme-pref'), 'light');
    assert.equal(await html.getAttribute('data-theme'), 'light');
    assert.notEqual(await bg(), darkBg);
    await page.waitForFunction(() => document.querySelectorAll('[data-pop]').length >= 250, null, { timeout: 60_000 });
    await screenshot(page, '05-light-theme');
    await page.reload();
    await page.locator('[data-testid="theme-toggle"][data-theme-pref="light"]').waitFor();
    assert.equal(await html.getAttribute('data-theme'), 'light');
  });

  it('renders at phone width without horizontal scrolling', async () => {
    const page = await stack.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(stack.url);
    await page.waitForFunction(() => document.querySelectorAll('[data-pop]').length >= 250, null, { timeout: 60_000 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `page is ${overflow}px wider than the phone`);
    await screenshot(page, '06-phone');
    await page.locator('tr[data-pop-row] button.link').first().click();
    await page.locator('[data-testid="pop-drilldown"]').waitFor();
    const box = await page.locator('[data-testid="pop-drilldown"]').boundingBox();
    assert.ok(box && box.width >= 380, `drill-down is ${box?.width}px wide on a 390px phone`);
    await page.locator('[data-testid="timeseries-chart"] canvas').first().waitFor();
    await page.locator('[data-testid="pop-drilldown"] .stats-grid').waitFor();
    await screenshot(page, '07-phone-drilldown');
  });

  it('falls back to polling when the live socket drops and goes live again by itself', async () => {
    const page = await stack.newPage();
    let blocked = false;
    let current: WebSocketRoute | null = null;
    // Between the page and the server: pass the socket through, or refuse it while blocked.
    await page.routeWebSocket(/\/ws$/, (ws) => {
      if (blocked) {
        // not 1013: that is the server saying it is full (the dashboard then says "Server full")
        ws.close({ code: 1011, reason: 'test: live channel down' });
        return;
      }
      current = ws;
      ws.connectToServer();
    });
    await page.goto(stack.url);
    await page.locator('[data-connection="live"]').waitFor({ timeout: 30_000 });

    blocked = true;
    await (current as WebSocketRoute | null)?.close({ code: 1001, reason: 'test: drop' });
    // the socket is down, HTTP still answers: the dashboard polls and says so
    await page.locator('[data-connection="polling"]').waitFor({ timeout: 20_000 });
    const polled = await page.locator('[data-testid="updated-ago"]').innerText();
    assert.match(polled, /updated/);
    // Proof that polling brings news: a POP first written now, while the socket is down,
    // reaches the total only through a poll.
    const totalPops = async () => Number((await page.locator('[data-testid="card-total-pops-value"]').innerText()).replace(/\D/g, ''));
    const before = await totalPops();
    assert.ok(before > 0, `a total before the new POP (${before})`);
    await writeLine(stack.url, `cold_start_metrics,pop_code=PLX,city=Polled\\ Town,country=ZZ,tier=tier3,function_name=ssr-render cold_start_time_ms=123,latitude=12.5,longitude=34.5 ${Date.now()}`);
    await waitFor('the new POP in the polled total', async () => ((await totalPops()) === before + 1 ? true : undefined), 20_000);
    assert.equal(await page.locator('[data-connection]').getAttribute('data-connection'), 'polling', 'it came by polling, the socket is still down');
    await screenshot(page, '11-polling-fallback');

    blocked = false;
    // backoff retries (1 s, 2 s, 4 s, … jittered) find the socket back without a reload
    await page.locator('[data-connection="live"]').waitFor({ timeout: 40_000 });
  });

  it('stays usable with more than 1,000 POPs: every marker drawn, the table windowed', async (t) => {
    // 600 more POPs, first seen in data, spread over a grid of the world
    const now = Date.now();
    const lines = Array.from({ length: 600 }, (_, i) => {
      const lat = -50 + (i % 30) * 3.5;
      const lon = -170 + Math.floor(i / 30) * 17;
      const code = `Q${String(i).padStart(3, '0')}`;
      return `cold_start_metrics,pop_code=${code},city=Grid\\ ${i},country=ZZ,tier=tier3,function_name=ssr-render cold_start_time_ms=${50 + (i % 40) * 10},latitude=${lat},longitude=${lon} ${now}`;
    });
    const res = await fetch(`${stack.url}/write?db=edgeworker&precision=ms`, { method: 'POST', body: lines.join('\n') });
    assert.equal(res.status, 204, await res.text());

    const page = await stack.newPage();
    await page.goto(stack.url);
    await page.waitForFunction(() => document.querySelectorAll('[data-pop]').length >= 1000, null, { timeout: 60_000 });
    const rows = await page.locator('tr[data-pop-row]').count();
    assert.ok(rows < 60, `${rows} table rows in the DOM for 1,000+ POPs`);

    // scroll the whole table frame by frame (figures only: the frame-time goal is in bench/scroll.ts)
    // (a string, not a function: tsx would wrap inner functions in a helper the page lacks)
    const frames = (await page.evaluate(SCROLL_THROUGH_TABLE)) as ScrollFigures;
    const total = await page.locator('[data-testid="pop-table"]').getAttribute('aria-rowcount');
    t.diagnostic(
      `scrolled ${Number(total) - 1} POPs in ${frames.frames} frames: frame p50 ${frames.p50Ms.toFixed(1)} ms, ` +
        `p95 ${frames.p95Ms.toFixed(1)} ms, worst ${frames.worstMs.toFixed(1)} ms, ${frames.over50} frames over 50 ms`,
    );
    // the last POP is reachable by scrolling (React renders the final window after the last scroll event)
    await page.waitForFunction(
      (n) => [...document.querySelectorAll('tr[data-pop-row]')].pop()?.getAttribute('aria-rowindex') === n,
      total,
      { timeout: 5_000 },
    );
    assert.ok(Number(total) > 1000, `${total} rows`);
    await screenshot(page, '12-thousand-pops');
  });

  it('shows the injected regression as an alert that can be acknowledged in the UI', { timeout: 150_000 }, async () => {
    // The injection starts 45 s after start-up and needs the 20 s recent window to fill:
    // poll the API, nudging the detector with an explicit pass each time.
    const alert = await waitFor(
      `an open alert for ${INJECTED.pop}/${INJECTED.fn}`,
      async () => {
        const page = await getJson<{ alerts: AlertLike[] }>(`${stack.url}/api/alerts?status=open&pop=${INJECTED.pop}`);
        const found = page.alerts.find((a) => a.functionName === INJECTED.fn);
        if (found) return found;
        await fetch(`${stack.url}/api/detector/run`, { method: 'POST' });
        return undefined;
      },
      100_000,
      5_000,
    );

    const page = await stack.newPage();
    await page.goto(`${stack.url}/?view=alerts`);
    const row = page.locator(`[data-alert-id="${alert.id}"]`);
    await row.waitFor();
    await page.locator('[data-testid="updated-ago"]', { hasText: /updated/ }).waitFor();
    assert.equal(await row.getAttribute('data-alert-status'), 'open');
    assert.match(await row.innerText(), new RegExp(`${INJECTED.pop}[\\s\\S]*${INJECTED.fn}`));
    await screenshot(page, '08-alerts-open');

    // in a narrow window (740 px, where the alerts are cards: the full table needs ~830 px) both
    // actions stay in view, without scrolling sideways
    const narrow = await stack.newPage({ viewport: { width: 740, height: 600 } });
    await narrow.goto(`${stack.url}/?view=alerts`);
    const narrowRow = narrow.locator(`[data-alert-id="${alert.id}"]`);
    await narrowRow.waitFor();
    const fit = await narrow.locator('.alerts-view .table-scroll').evaluate((el, id) => {
      const box = el.getBoundingClientRect();
      const buttons = [...el.querySelectorAll(`[data-alert-id="${id}"] button`)].map((b) => b.getBoundingClientRect());
      return { overflow: el.scrollWidth - el.clientWidth, buttons: buttons.length, outside: buttons.filter((b) => b.right > box.right + 0.5).length };
    }, alert.id);
    assert.deepEqual(fit, { overflow: 0, buttons: 2, outside: 0 }, 'Acknowledge and Resolve fit at 740 px');

    await row.getByRole('button', { name: 'Acknowledge' }).click();
    // it leaves the open tab...
    await row.waitFor({ state: 'detached' });
    // ...and shows up acknowledged
    await page.locator('[data-alert-tab="acknowledged"]').click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('alerts') === 'acknowledged');
    await page.locator(`[data-alert-id="${alert.id}"][data-alert-status="acknowledged"]`).waitFor();
    const stored = await getJson<{ alerts: AlertLike[] }>(`${stack.url}/api/alerts?status=acknowledged&pop=${INJECTED.pop}`);
    assert.ok(stored.alerts.some((a) => a.id === alert.id), 'the server has it acknowledged');
    // the overview's count still holds it (unresolved), so the card must not call it open
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="card-regressions-value"]')?.textContent) >= 1);
    assert.doesNotMatch(await page.locator('[data-testid="card-regressions"]').innerText(), /open alerts/);
    assert.match(await page.locator('[data-testid="card-regressions"]').innerText(), /open or acknowledged/);
    await screenshot(page, '09-alert-acknowledged');

    // the alert links to its POP's drill-down, which lists it too
    await page.locator(`[data-alert-id="${alert.id}"] a.link`).click();
    await page.locator(`[data-pop-detail="${INJECTED.pop}"]`).waitFor();
    assert.equal(search(page).get('pop'), INJECTED.pop);
    await page.locator(`[data-testid="drilldown-alerts"] [data-alert-id="${alert.id}"][data-alert-status="acknowledged"]`).waitFor();
    await page.locator('[data-testid="pop-drilldown"] .stats-grid').waitFor();
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="timeseries-chart"]')?.getAttribute('data-points-with-samples')) > 0,
      null,
      { timeout: 30_000 },
    );
    await screenshot(page, '10-drilldown-with-alert');
  });

  it('logged no console errors and no page errors', () => {
    assert.deepEqual(stack.errors, []);
  });
});
