/**
 * End to end: `npm start` as a newcomer runs it (dashboard built when missing),
 * in its own process group, then Ctrl-C. Sees the overview reach the whole
 * catalog, a metrics_update arrive, and the data survive a restart.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

function npmStart(env: Record<string, string>) {
  const child = spawn('npm', ['start', '--silent'], { cwd: root, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  // npm itself dies of the SIGINT like in a terminal; what matters is the server
  // under it, which holds the pipes until it has finished shutting down.
  const finished = new Promise<void>((r) => child.stdout!.on('close', r));
  return { child, finished, output: () => output };
}

/** Ctrl-C in a terminal signals the whole process group. */
function ctrlC(child: ChildProcess) {
  try {
    process.kill(-child.pid!, 'SIGINT');
  } catch {
    /* already gone */
  }
}

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

describe('npm start (all-in-one)', () => {
  it('serves live data for the whole catalog and shuts down cleanly on Ctrl-C', { timeout: 240_000 }, async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ewm-aio-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, GENERATOR_INTERVAL_MS: '1000', LOG_LEVEL: 'info' };

    const run = npmStart(env);
    t.after(() => ctrlC(run.child));
    // The first start may build the dashboard: allow for it.
    const overview = await poll('an overview with >= 250 POPs with data', async () => {
      const res = await fetch(`${base}/api/dashboard/overview`);
      const o = (await res.json()) as { totalPops: number; noDataPops: number; samples: number };
      return o.totalPops >= 250 && o.samples > 0 && o.totalPops - o.noDataPops >= 250 ? o : undefined;
    }, 180_000);
    assert.ok(overview.totalPops >= 250);

    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    t.after(() => ws.terminate());
    const update = await new Promise<{ type: string; data: { samples: number } }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no metrics_update within 10 s')), 10_000);
      ws.on('message', (d) => {
        const m = JSON.parse(String(d));
        if (m.type === 'metrics_update') {
          clearTimeout(timer);
          resolve(m);
        }
      });
    });
    assert.ok(update.data.samples > 0);

    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<div id="root">/);

    ctrlC(run.child);
    await run.finished;
    assert.match(run.output(), /shutting down/);
    assert.match(run.output(), /shutdown complete/, `no clean shutdown; output:\n${run.output().slice(-2000)}`);
    assert.doesNotMatch(run.output(), /still buffered/);
    assert.doesNotMatch(run.output(), /exiting without waiting/);
    // The clean shutdown merged the write-ahead log (CHECKPOINT on close).
    for (const wal of ['metrics.duckdb.wal', 'alerts.duckdb.wal']) {
      const path = join(dataDir, wal);
      assert.ok(!existsSync(path) || statSync(path).size === 0, `${wal} left unmerged: ${existsSync(path) ? statSync(path).size : 0} bytes`);
    }
    // Everything the generator had written by the end, flush on stop included.
    const sent = Number(/"generatorSentPoints":(\d+)/.exec(run.output())?.[1]);
    assert.ok(sent >= overview.samples, `the generator reports ${sent} points sent, the overview saw ${overview.samples}`);

    // Restart on the same DATA_DIR without the generator: the samples are still there.
    const again = npmStart({ ...env, GENERATOR: 'off' });
    t.after(() => ctrlC(again.child));
    const kept = await poll('the restarted server', async () => {
      const res = await fetch(`${base}/api/dashboard/overview?window=1h`);
      return ((await res.json()) as { samples: number }).samples;
    }, 60_000);
    // Every acknowledged point is there, and nothing else: compared with the final count, not an early one.
    assert.equal(kept, sent, `after restart ${kept} samples, the generator had written ${sent}`);
    ctrlC(again.child);
    await again.finished;
    assert.match(again.output(), /shutdown complete/);
  });
});
