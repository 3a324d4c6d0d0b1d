/**
 * Layout in a real browser (Debian's Chromium through playwright-core) against the all-in-one
 * (generator every second, detector off): the alerts readable on a phone without scrolling
 * sideways, and every POP on the desktop map reachable with the mouse (no marker hidden under
 * a neighbour, as FRA was under CGN). Every page's console errors and page errors are
 * collected; the last test asserts none.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Alert } from '@edgeworker/schema';
import type { Page } from 'playwright-core';
import { screenshot, startStack, type Stack } from './harness.ts';

let stack: Stack;

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };

/** Where a text sits on the page: the box of the first occurrence of any of `texts` inside `root`, in viewport px. */
const TEXT_BOX = `(root, texts) => {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = texts.find((t) => n.data.includes(t));
    if (text === undefined) continue;
    const i = n.data.indexOf(text);
    const range = document.createRange();
    range.setStart(n, i);
    range.setEnd(n, i + text.length);
    const r = range.getBoundingClientRect();
    const style = getComputedStyle(n.parentElement);
    return { left: r.left, right: r.right, width: r.width, height: r.height, hidden: style.visibility !== 'visible' || style.display === 'none' };
  }
  return null;
}`;

/** Scrolls every marker into view in turn and asks the browser what is on top at its centre. */
const UNREACHABLE_MARKERS = `(() => {
  const out = [];
  for (const g of document.querySelectorAll('.world-map [data-pop]')) {
    const shape = g.querySelector('.shape') ?? g;
    let r = shape.getBoundingClientRect();
    if (r.top < 0 || r.bottom > window.innerHeight) {
      window.scrollBy(0, r.top - window.innerHeight / 2);
      r = shape.getBoundingClientRect();
    }
    const x = r.left + r.width / 2;
    const y = r.top + r.height / 2;
    const hit = document.elementFromPoint(x, y)?.closest('[data-pop]');
    if (hit !== g) out.push(g.getAttribute('data-pop') + ' under ' + (hit?.getAttribute('data-pop') ?? hit?.tagName ?? 'nothing'));
  }
  window.scrollTo(0, 0);
  return out;
})()`;

async function raiseAlerts(): Promise<Alert[]> {
  const alerts = stack.product.app.services.alerts;
  const now = Date.now();
  const raised = [
    await alerts.raise({ popCode: 'FRA', functionName: 'ssr-render', severity: 'critical', baselineMs: 171.4, currentMs: 912.8, changePct: 432.6 }),
    await alerts.raise({ popCode: 'GRU', functionName: 'image-resize', severity: 'warning', baselineMs: 130.2, currentMs: 161.9, changePct: 24.3 }),
    await alerts.raiseNoData({ popCode: 'NRT', functionName: 'api-gateway', severity: 'critical', baselineMs: 55, lastSeenMs: now - 4 * 60_000 }),
    await alerts.raiseNoData({ popCode: 'SYD', functionName: '*', severity: 'critical', baselineMs: 0, lastSeenMs: now - 6 * 60_000, silentSeries: 5 }),
    // A function silent at every POP: "every POP", not a link to a POP called "*".
    await alerts.raiseNoData({ popCode: '*', functionName: 'auth-check', severity: 'critical', baselineMs: 0, lastSeenMs: now - 5 * 60_000, silentSeries: 424 }),
  ].map((r) => r.alert);
  // one acknowledged, so both actions and the single one are laid out
  raised[1] = await alerts.acknowledge(raised[1]!.id);
  return raised;
}

/** What a reader must see of each alert without scrolling sideways (each entry: any of its texts). */
function keyTexts(a: Alert): (string | string[])[] {
  // since: "just now" for its first seconds
  const texts: (string | string[])[] = [a.popCode === '*' ? 'every POP' : a.popCode, a.functionName, a.severity, ['ago', 'just now']];
  if (a.type === 'regression') texts.push('Regression', String(Math.round(a.baselineMs)), String(Math.round(a.currentMs)));
  else texts.push('No data');
  if (a.status === 'open') texts.push('Acknowledge');
  if (a.status !== 'resolved') texts.push('Resolve');
  return texts;
}

async function pageOverflow(page: Page) {
  return page.evaluate(() => ({
    document: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    // inner boxes that scroll sideways (a table in its own scroller) are as bad on a phone
    scrollers: [...document.querySelectorAll('body *')]
      .filter((el) => el.scrollWidth > el.clientWidth + 1 && ['auto', 'scroll'].includes(getComputedStyle(el).overflowX))
      .map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} (${el.scrollWidth} > ${el.clientWidth})`),
  }));
}

describe('layout: phone width and a crowded map', { timeout: 300_000 }, () => {
  before(async () => {
    stack = await startStack({ GENERATOR_SEED: '13', DETECTOR: 'off', LOG_LEVEL: 'error' });
  });

  afterEach(async () => {
    await stack?.closePages();
  });

  after(async () => {
    await stack?.stop();
  });

  it('shows every alert on a 390 px phone without scrolling sideways, each field in view', async () => {
    const alerts = await raiseAlerts();
    for (const theme of ['dark', 'light'] as const) {
      const page = await stack.newPage({ viewport: PHONE, colorScheme: theme });
      await page.goto(`${stack.url}/?view=alerts`);
      for (const a of alerts.filter((x) => x.status === 'open')) await page.locator(`[data-alert-id="${a.id}"]`).waitFor();
      const overflow = await pageOverflow(page);
      assert.deepEqual(overflow, { document: 0, scrollers: [] }, 'nothing scrolls sideways on the open alerts');
      const view = await page.locator('[data-testid="alerts-view"]').evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
      assert.ok(view.scroll <= view.client, `alerts view ${view.scroll} px wide in ${view.client} px`);

      const check = async (a: Alert) => {
        const row = page.locator(`[data-alert-id="${a.id}"]`);
        const box = await row.boundingBox();
        assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width + 0.5, `${a.popCode}'s alert spans ${box?.x}..${box && box.x + box.width}`);
        for (const text of keyTexts(a)) {
          const r = (await page.evaluate(`(${TEXT_BOX})(document.querySelector('[data-alert-id="${a.id}"]'), ${JSON.stringify([text].flat())})`)) as {
            left: number;
            right: number;
            width: number;
            height: number;
            hidden: boolean;
          } | null;
          assert.ok(r, `${a.popCode}'s alert shows "${text}"`);
          assert.ok(!r.hidden && r.width > 0 && r.height > 0, `"${text}" of ${a.popCode} is drawn`);
          assert.ok(r.left >= 0 && r.right <= PHONE.width, `"${text}" of ${a.popCode} at ${r.left.toFixed(0)}..${r.right.toFixed(0)} px, off a ${PHONE.width} px screen`);
        }
      };
      for (const a of alerts.filter((x) => x.status === 'open')) await check(a);
      const everywhere = alerts.find((x) => x.popCode === '*')!;
      assert.equal(await page.locator(`[data-alert-id="${everywhere.id}"] a.link`).count(), 0, 'a function silent everywhere has no POP to open');
      await screenshot(page, `13-phone-alerts-${theme}`);

      // the keyboard reaches the actions: Tab from the POP link lands on a button of the same alert
      const first = alerts[0]!;
      await page.locator(`[data-alert-id="${first.id}"] a.link`).focus();
      await page.keyboard.press('Tab');
      assert.equal(
        await page.evaluate(() => document.activeElement?.textContent),
        'Acknowledge',
        'Tab from the POP link reaches Acknowledge',
      );
      assert.equal(await page.evaluate(() => document.activeElement?.closest('[data-alert-id]')?.getAttribute('data-alert-id')), first.id);

      await page.locator('[data-alert-tab="acknowledged"]').click();
      const acked = alerts[1]!;
      await page.locator(`[data-alert-id="${acked.id}"]`).waitFor();
      assert.deepEqual(await pageOverflow(page), { document: 0, scrollers: [] }, 'nothing scrolls sideways on the acknowledged alerts');
      await check(acked);
    }
  });

  it('shows the alerts without scrolling sideways at every width from a big phone to a laptop', async () => {
    const page = await stack.newPage({ viewport: PHONE });
    await page.goto(`${stack.url}/?view=alerts`);
    await page.locator('[data-alert-id]').first().waitFor();
    // each side of the card breakpoint (900 px) and the phone layout's (720 px)
    for (const width of [430, 720, 721, 740, 900, 901, 1024]) {
      await page.setViewportSize({ width, height: 800 });
      const overflow = await pageOverflow(page);
      assert.deepEqual(overflow, { document: 0, scrollers: [] }, `at ${width} px`);
      const outside = await page.evaluate(
        (w) => [...document.querySelectorAll('[data-alert-id] button')].filter((b) => b.getBoundingClientRect().right > w).length,
        width,
      );
      assert.equal(outside, 0, `buttons past the right edge at ${width} px`);
    }
  });

  it('keeps the rest of the page within a 390 px phone: header, window, cards, POP table, drill-down', async () => {
    const page = await stack.newPage({ viewport: PHONE });
    await page.goto(stack.url);
    await page.waitForFunction(() => document.querySelectorAll('[data-pop]').length >= 250, null, { timeout: 60_000 });
    await page.waitForFunction(() => /\d/.test(document.querySelector('[data-testid="card-total-pops-value"]')?.textContent ?? ''), null, { timeout: 30_000 });
    assert.deepEqual(await pageOverflow(page), { document: 0, scrollers: [] }, 'the overview page');
    await page.locator('tr[data-pop-row] button.link').first().click();
    await page.locator('[data-testid="pop-drilldown"] .stats-grid').waitFor();
    await page.locator('[data-testid="timeseries-chart"] canvas').first().waitFor();
    assert.deepEqual(await pageOverflow(page), { document: 0, scrollers: [] }, 'the drill-down');
  });

  it('lets the mouse reach every POP on the 1440 px map, FRA and CGN included', async () => {
    const page = await stack.newPage({ viewport: DESKTOP });
    await page.goto(stack.url);
    await page.waitForFunction(() => document.querySelectorAll('[data-pop]').length >= 250, null, { timeout: 60_000 });
    // the cards and trends arriving move the map down: measure once the layout has settled
    await page.waitForFunction(() => document.querySelector('[data-testid="card-p95"] .sparkline path') !== null, null, { timeout: 30_000 });
    const unreachable = (await page.evaluate(UNREACHABLE_MARKERS)) as string[];
    const total = await page.locator('[data-pop]').count();
    assert.deepEqual(unreachable, [], `${unreachable.length} of ${total} POPs hidden under another marker`);

    // and a real pointer on each of the pair shows that POP
    const tooltip = page.locator('[data-testid="map-tooltip"]');
    for (const code of ['FRA', 'CGN']) {
      const shape = page.locator(`[data-pop="${code}"] .shape`);
      let tip = '';
      let lastError = '';
      // the pointer goes to the middle of the drawn shape, as a user aims (bounded retries: live
      // updates can re-render the marker under a pointer placed a moment earlier, and a status
      // change swaps the shape's element (circle, triangle, diamond), detaching the one being aimed at)
      for (let i = 0; i < 5 && !tip.startsWith(code); i++) {
        try {
          await page.mouse.move(0, 0);
          await shape.scrollIntoViewIfNeeded({ timeout: 5000 });
          const box = await shape.boundingBox({ timeout: 5000 });
          if (!box) throw new Error(`${code} is not drawn`);
          await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
          tip = await tooltip.innerText({ timeout: 2000 }).catch(() => '');
        } catch (err) {
          lastError = (err as Error).message.split('\n')[0] ?? '';
        }
      }
      assert.ok(tip.startsWith(code), `hovering ${code} shows ${code}'s tooltip (showed: ${tip.slice(0, 40)}; last error: ${lastError})`);
    }
    await screenshot(page, '14-map-desktop');
  });

  it('logged no console errors and no page errors', () => {
    assert.deepEqual(stack.errors, []);
  });
});
