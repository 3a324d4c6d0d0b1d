/**
 * What the dashboard says when its server stops answering without closing anything, and when
 * the server is full: the all-in-one in a process of its own (SIGSTOP really stops it: its TCP
 * connections stay open, the browser's WebSocket never closes), a heartbeat every second (the
 * page calls the server stale after 3 silent intervals), at most 2 live clients. Every wait is
 * bounded; the server is continued in `after` whatever happened.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { getJson, screenshot, startProcessStack, waitFor, type ProcessStack } from './harness.ts';

const HEARTBEAT_MS = 1_000;
/** The page's bound: SILENCE_FACTOR (3) heartbeat intervals. */
const SILENCE_BOUND_MS = 3 * HEARTBEAT_MS;

let stack: ProcessStack;

const wsClients = async () => (await getJson<{ components: { websocket: { clients: number } } }>(`${stack.url}/health`)).components.websocket.clients;

describe('live connection watch: a stopped server, a full server', { timeout: 300_000 }, () => {
  before(async () => {
    stack = await startProcessStack({ WS_HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS), WS_MAX_CLIENTS: '2', DETECTOR: 'off', GENERATOR_SEED: '5' });
  });

  afterEach(async () => {
    stack?.server.child.kill('SIGCONT'); // never leave it stopped for the next test or the teardown
    await stack?.closePages();
  });

  after(async () => {
    await stack?.stop();
  });

  it('leaves "Live" within the bound when the server process is stopped, and comes back when it continues', async (t) => {
    const page = await stack.newPage();
    await page.goto(stack.url);
    const badge = page.locator('[data-connection]');
    await page.locator('[data-connection="live"]').waitFor({ timeout: 30_000 });
    await page.locator('[data-testid="card-total-pops-value"]').filter({ hasText: /\d/ }).waitFor({ timeout: 30_000 });
    // a few heartbeats in, so the page knows the interval
    await page.waitForTimeout(1_500);
    assert.equal(await badge.getAttribute('data-connection'), 'live');

    const stoppedAt = Date.now();
    assert.ok(stack.server.child.kill('SIGSTOP'), 'SIGSTOP delivered');
    await page.locator('[data-connection="stale"]').waitFor({ timeout: SILENCE_BOUND_MS + 5_000 });
    const after = Date.now() - stoppedAt;
    // The last message came at most one interval before the stop: not before 3 - 1 intervals.
    assert.ok(after >= SILENCE_BOUND_MS - HEARTBEAT_MS - 100, `stale after ${after} ms: too early for a bound of ${SILENCE_BOUND_MS} ms`);
    assert.ok(after <= SILENCE_BOUND_MS + 3_000, `stale only after ${after} ms (bound ${SILENCE_BOUND_MS} ms)`);
    t.diagnostic(`SIGSTOP to Stale: ${after} ms (bound ${SILENCE_BOUND_MS} ms after the last message)`);
    await page.locator('[data-testid="conn-silent"]', { hasText: /no data from the server for \d+ s/ }).waitFor({ timeout: 2_000 });
    // the numbers on screen are marked as not live
    await page.locator('[data-testid="live-stale"]').waitFor({ timeout: 2_000 });
    assert.match((await page.locator('main').getAttribute('class')) ?? '', /\bdata-stale\b/);
    assert.match((await page.locator('[data-testid="updated-ago"]').getAttribute('class')) ?? '', /\bstale\b/);
    // still stopped a while later: it stays stale (retries hang on a stopped process), never "Live"
    await page.waitForTimeout(2_000);
    assert.equal(await badge.getAttribute('data-connection'), 'stale');
    await screenshot(page, 'live-watch-stale');
    const FRESH = /just now|\b[0-2] s ago/;
    const frozen = await page.locator('[data-testid="updated-ago"]').innerText();
    assert.doesNotMatch(frozen, FRESH, 'nothing new reached the page while the server was stopped');

    assert.ok(stack.server.child.kill('SIGCONT'), 'SIGCONT delivered');
    const continuedAt = Date.now();
    // the pending retry (or the next one, backoff 1 s → 2 s → …) finds the server again
    await page.locator('[data-connection="live"]').waitFor({ timeout: 20_000 });
    t.diagnostic(`SIGCONT to Live: ${Date.now() - continuedAt} ms`);
    assert.equal(await page.locator('[data-testid="live-stale"]').count(), 0, 'the stale notice is gone');
    assert.doesNotMatch((await page.locator('main').getAttribute('class')) ?? '', /\bdata-stale\b/);
    // the page let the silent socket go: the server ends up with one client (this page's new socket), not two
    await waitFor('one client on the server', async () => ((await wsClients()) === 1 ? true : undefined), 10_000, 250);
    // and data flows again: a fresh update after the continue
    await waitFor(
      'a fresh update after the server continued',
      async () => (FRESH.test(await page.locator('[data-testid="updated-ago"]').innerText()) ? true : undefined),
      15_000,
      250,
    );
  });

  it('says "Server full" when the server refuses the socket, keeps the numbers by polling, and goes live once a place is free', async (t) => {
    await waitFor('no client left from the previous test', async () => ((await wsClients()) === 0 ? true : undefined), 10_000, 250);
    // two real clients take both places (WS_MAX_CLIENTS=2)
    const holders = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<WebSocket>((resolve, reject) => {
            const ws = new WebSocket(`${stack.url.replace('http', 'ws')}/ws`);
            t.after(() => ws.terminate());
            const timer = setTimeout(() => reject(new Error('no hello within 10 s')), 10_000);
            ws.once('message', () => {
              clearTimeout(timer);
              resolve(ws);
            });
            ws.once('error', reject);
          }),
      ),
    );
    assert.equal(await wsClients(), 2);

    const page = await stack.newPage();
    await page.goto(stack.url);
    await page.locator('[data-connection="full"]').waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('[data-connection="full"] [role="status"]').innerText(), 'Server full');
    assert.match((await page.locator('[data-connection]').getAttribute('title')) ?? '', /server full: 2 live clients \(WS_MAX_CLIENTS\)/);
    // refused, not blind: the numbers come over HTTP meanwhile
    await page.locator('[data-testid="card-total-pops-value"]').filter({ hasText: /[1-9]/ }).waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('[data-testid="live-stale"]').count(), 0, 'polled numbers are not stale');
    const refused = Number(/^edgeworker_ws_clients_refused_total (\d+)$/m.exec(await (await fetch(`${stack.url}/metrics`)).text())?.[1]);
    assert.ok(refused >= 1, `refusals counted: ${refused}`);
    await screenshot(page, 'live-watch-full');

    holders[0]!.close();
    // the page's backoff (1 s, 2 s, 4 s, 8 s … jittered) brings it in within a few retries
    await page.locator('[data-connection="live"]').waitFor({ timeout: 40_000 });
  });

  it('logged no console errors and no page errors', () => {
    assert.deepEqual(stack.errors, []);
  });
});
