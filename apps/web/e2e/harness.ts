/**
 * What the browser tests stand on: the real all-in-one (server + built-in generator +
 * detector, embedded stores in a temp DATA_DIR, a free port), the dashboard freshly
 * built into a temp directory (so the test never serves a stale build and never
 * touches apps/web/dist), and Debian's Chromium driven by playwright-core.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { startAllInOne, type RunningProduct } from '../../server/src/all-in-one.ts';
import { loadConfig } from '../../server/src/config.ts';
import { freePort } from '../../server/src/testing/free-port.ts';

const WEB_DIR = fileURLToPath(new URL('..', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const ARTIFACTS_DIR = join(WEB_DIR, 'e2e', 'artifacts');
export const CHROMIUM = '/usr/bin/chromium';

/** Builds the dashboard into `outDir` with Vite (about a second); throws with Vite's output on failure. */
export function buildDashboard(outDir: string): void {
  const r = spawnSync(join(ROOT, 'node_modules', '.bin', 'vite'), ['build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: WEB_DIR,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`dashboard build failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
}

export interface Stack {
  product: RunningProduct;
  url: string;
  browser: Browser;
  /** console errors and page errors seen on any page, with the page's URL. */
  errors: string[];
  newPage(options?: { viewport?: { width: number; height: number }; colorScheme?: 'dark' | 'light' }): Promise<Page>;
  /** Closes every page opened so far: open dashboards keep rendering live updates and would load the CPU. */
  closePages(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the product with `env` (on top of test defaults) and Chromium. Everything is
 * torn down by `stop()`: browser first (so its sockets close before the server goes),
 * then the product, then the temp directories.
 */
export async function startStack(env: Record<string, string>): Promise<Stack> {
  const tmp = mkdtempSync(join(tmpdir(), 'ewm-e2e-'));
  const dist = join(tmp, 'web');
  buildDashboard(dist);
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const config = loadConfig({
    DATA_DIR: join(tmp, 'data'),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    WEB_DIST_DIR: dist,
    GENERATOR_INTERVAL_MS: '1000',
    ...env,
  });
  mkdirSync(config.dataDir, { recursive: true });
  let product: RunningProduct;
  try {
    product = await startAllInOne(config);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return { product, ...(await withBrowser(product.url, () => product.stop(), tmp)) };
}

/**
 * Chromium beside a running server: its pages, and a stop() that closes them and the browser first
 * (so their sockets close before the server goes), then the server, then the temp directory. If
 * Chromium does not start, the server is stopped and the directory removed before the error is thrown.
 */
async function withBrowser(url: string, stopServer: () => Promise<void>, tmp: string): Promise<Omit<Stack, 'product'>> {
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (err) {
    await stopServer();
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  const pages = trackPages(browser);
  return {
    url,
    browser,
    errors: pages.errors,
    newPage: pages.newPage,
    closePages: pages.closePages,
    async stop() {
      await pages.closeAll();
      await browser.close().catch(() => undefined);
      await stopServer();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless, with a fresh temporary profile (playwright gives every launch one). */
async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 60_000,
  });
}

/** Pages in their own contexts, with every console error and page error collected (until closeAll). */
function trackPages(browser: Browser) {
  const errors: string[] = [];
  const contexts: BrowserContext[] = [];
  let stopping = false;
  const watch = (page: Page) => {
    page.on('console', (m: ConsoleMessage) => {
      if (m.type() !== 'error' || stopping) return;
      errors.push(`console error on ${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (err) => {
      if (!stopping) errors.push(`page error on ${page.url()}: ${err.message}`);
    });
  };
  return {
    errors,
    async newPage(options: { viewport?: { width: number; height: number }; colorScheme?: 'dark' | 'light' } = {}) {
      const context = await browser.newContext({
        viewport: options.viewport ?? { width: 1440, height: 900 },
        colorScheme: options.colorScheme ?? 'dark',
        deviceScaleFactor: 1,
      });
      contexts.push(context);
      context.setDefaultTimeout(20_000);
      const page = await context.newPage();
      watch(page);
      return page;
    },
    async closePages() {
      for (const c of contexts.splice(0)) await c.close().catch(() => undefined);
    },
    async closeAll() {
      stopping = true;
      for (const c of contexts.splice(0)) await c.close().catch(() => undefined);
    },
  };
}

/** The all-in-one in a process of its own, so a test can stop it for real (SIGSTOP) and go on. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** stdout and stderr so far (LOG_LEVEL=warn: little), for failure messages. */
  output(): string;
}

export interface ProcessStack extends Omit<Stack, 'product'> {
  server: ServerProcess;
}

/**
 * As startStack, but the all-in-one runs in a child process (`node --import tsx`, the entry point
 * `npm start` bundles) on a free loopback port, so the test can SIGSTOP and SIGCONT it. `stop()`
 * continues it first (a stopped process acts on no signal), then SIGTERM, then SIGKILL after 15 s.
 */
export async function startProcessStack(env: Record<string, string>): Promise<ProcessStack> {
  const tmp = mkdtempSync(join(tmpdir(), 'ewm-e2e-proc-'));
  const dist = join(tmp, 'web');
  buildDashboard(dist);
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  mkdirSync(join(tmp, 'data'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/server/src/bin/all-in-one.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATA_DIR: join(tmp, 'data'),
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      WEB_DIST_DIR: dist,
      GENERATOR_INTERVAL_MS: '1000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stopServer = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(killer);
  };
  const server: ServerProcess = { url, child, output: () => out };
  try {
    await waitFor(
      'the server process to answer /health',
      async () => {
        if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}): ${out}`);
        return (await fetch(`${url}/health`)).ok ? true : undefined;
      },
      60_000,
      250,
    );
  } catch (err) {
    await stopServer();
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return { server, ...(await withBrowser(url, stopServer, tmp)) };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS_DIR, `${name}.png`), fullPage: false });
}

/** One line of the seed's measurement, timestamp in ms, sent to /write; throws unless 204. */
export async function writeLine(url: string, line: string): Promise<void> {
  const res = await fetch(`${url}/write?db=edgeworker&precision=ms`, { method: 'POST', body: line });
  if (res.status !== 204) throw new Error(`write answered ${res.status}: ${await res.text()}`);
}

/**
 * A POP that was slow (950 ms) for 20 samples 3 hours ago and reports fast (50 ms) now: healthy
 * over 5 min, critical over 24 h (it reports now: a POP silent for NO_DATA_AFTER is no_data in every window).
 */
export async function writeSlowThenFast(url: string, pop: { code: string; city: string; lat: number; lon: number }): Promise<void> {
  const tags = `cold_start_metrics,pop_code=${pop.code},city=${pop.city},country=GS,tier=tier3,function_name=ssr-render`;
  const at = `latitude=${pop.lat},longitude=${pop.lon}`;
  const slow = Array.from({ length: 20 }, (_, i) => `${tags} cold_start_time_ms=950,${at} ${Date.now() - 3 * 3_600_000 + i * 10_000}`);
  await writeLine(url, [...slow, `${tags} cold_start_time_ms=50,${at} ${Date.now() - 20_000}`].join('\n'));
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a value (not undefined), at most `timeoutMs`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, everyMs = 500): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
