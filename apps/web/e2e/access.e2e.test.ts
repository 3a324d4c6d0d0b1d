/**
 * A private server (VIEWER_TOKEN set) in Chromium: the dashboard asks for a token,
 * refuses a wrong one, shows live data with the viewer token (REST and the WebSocket),
 * keeps the sign-in across a reload and forgets it on sign-out; the API docs at /docs
 * render. Everything runs under the server's Content-Security-Policy, and the last
 * test asserts the browser logged no error at all (a CSP violation is one).
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { screenshot, startStack, type Stack } from './harness.ts';

const API_TOKEN = 'e2e-api-token';
const VIEWER_TOKEN = 'e2e-viewer-token';
let stack: Stack;

describe('private dashboard: sign-in, CSP, API docs', { timeout: 240_000 }, () => {
  before(async () => {
    stack = await startStack({ API_TOKEN, VIEWER_TOKEN, DETECTOR: 'off', LOG_LEVEL: 'error' });
  });
  afterEach(async () => {
    await stack?.closePages();
  });
  after(async () => {
    await stack?.stop();
  });

  it('serves the dashboard under a strict Content-Security-Policy', async () => {
    const res = await fetch(stack.url);
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /connect-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-eval/);
    // the data is not public
    assert.equal((await fetch(`${stack.url}/api/heatmap`)).status, 401);
  });

  it('asks for a token, refuses a wrong one, shows live data with the viewer token, keeps it across a reload, forgets it on sign-out', async () => {
    const page = await stack.newPage();
    await page.goto(stack.url);
    const form = page.locator('[data-testid="signin"]');
    await form.waitFor();
    assert.equal(await page.locator('[data-pop]').count(), 0);
    await screenshot(page, '20-signin');

    await page.getByLabel('Access token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not accepted' }).waitFor();

    await page.getByLabel('Access token').fill(VIEWER_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-pop]').length >= 250, null, { timeout: 60_000 });
    // live means the WebSocket was let in with the token it carries as a subprotocol
    await page.locator('[data-connection="live"]').waitFor({ timeout: 30_000 });
    await screenshot(page, '21-signed-in');

    await page.reload();
    await page.locator('[data-connection="live"]').waitFor({ timeout: 30_000 });
    assert.equal(await form.count(), 0);

    await page.getByTestId('sign-out').click();
    await form.waitFor();
    await page.reload();
    await form.waitFor();
  });

  it('renders the interactive API docs at /docs', async () => {
    const page = await stack.newPage();
    await page.goto(`${stack.url}/docs`);
    await page.locator('.swagger-ui .opblock-summary-path', { hasText: '/api/heatmap' }).first().waitFor({ timeout: 30_000 });
    assert.ok((await page.locator('.swagger-ui .opblock').count()) >= 10);
    await screenshot(page, '22-api-docs');
  });

  it('logged no console errors and no page errors (no CSP violations)', () => {
    assert.deepEqual(stack.errors, []);
  });
});

describe('open dashboard with API_TOKEN: signing in to make changes', { timeout: 240_000 }, () => {
  let open: Stack;
  before(async () => {
    open = await startStack({ API_TOKEN, DETECTOR: 'off', LOG_LEVEL: 'error' });
  });
  after(async () => {
    await open?.stop();
  });

  it('shows the data without a token and offers a sign-in for changes, which the API token completes', async () => {
    const page = await open.newPage();
    await page.goto(open.url);
    await page.locator('[data-connection="live"]').waitFor({ timeout: 30_000 });
    await page.getByTestId('sign-in').click();
    await page.locator('[data-testid="signin"]').waitFor();
    await page.getByRole('button', { name: 'Back to the dashboard' }).click();
    await page.locator('[data-connection="live"]').waitFor({ timeout: 30_000 });
    await page.getByTestId('sign-in').click();
    await page.getByLabel('Access token').fill(API_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('sign-out').waitFor();
    assert.equal(await page.getByTestId('sign-in').count(), 0);
    await page.close();
    assert.deepEqual(open.errors, []);
  });
});
