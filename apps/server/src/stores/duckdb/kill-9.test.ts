/**
 * Kill -9 right after the 204s, then reopen: every acknowledged point is in the DuckDB
 * file. The real server entry point runs in a child process on its own DATA_DIR, takes
 * concurrent writes (group commit), and is SIGKILLed the moment the last 204 arrives;
 * no shutdown, no CHECKPOINT: only what COMMIT made durable (the WAL) survives.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../testing/free-port.ts';
import { waitFor } from '../../testing/wait.ts';
import { line, write, getJson } from '../../testing/start-app.ts';
import { loadConfig } from '../../config.ts';
import { buildApp } from '../../app.ts';

const root = fileURLToPath(new URL('../../../../../', import.meta.url));
const BATCHES = 24;
const PER_BATCH = 250;

describe('embedded store after kill -9', () => {
  it('keeps every point acknowledged with 204 before the SIGKILL', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ewm-kill9-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'apps/server/src/bin/server.ts'], {
      cwd: root,
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, DETECTOR: 'off', LOG_LEVEL: 'warn', WEB_DIST_DIR: join(dataDir, 'no-web') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
    t.after(() => void child.kill('SIGKILL'));
    await waitFor(async () => (await fetch(`${url}/health`).catch(() => undefined))?.ok, 60_000, `the server on ${url} (${stderr})`);

    const now = Date.now();
    // Four writers at once, so commits are grouped as in production.
    let acked = 0;
    const writer = async (w: number) => {
      for (let b = w; b < BATCHES; b += 4) {
        const body = Array.from({ length: PER_BATCH }, (_, i) => line({ pop: 'KIX', fn: `fn-${b}`, ms: 10 + (i % 50), t: now - i })).join('\n');
        const r = await write(url, body);
        assert.equal(r.status, 204, JSON.stringify(r.json));
        acked += PER_BATCH;
      }
    };
    await Promise.all([0, 1, 2, 3].map(writer));
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    assert.equal(acked, BATCHES * PER_BATCH);

    // Reopen the same files in a fresh app: the WAL replays.
    const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', WEB_DIST_DIR: join(dataDir, 'no-web'), DETECTOR: 'off' });
    const app = await buildApp(config);
    t.after(() => app.close());
    await app.listen({ host: '127.0.0.1', port: 0 });
    const again = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const kix = await getJson<{ samples: number; functions: Array<{ functionName: string; samples: number }> }>(`${again}/api/pops/KIX?window=1h`);
    assert.equal(kix.body.samples, acked);
    assert.equal(kix.body.functions.length, BATCHES);
    for (const f of kix.body.functions) assert.equal(f.samples, PER_BATCH, f.functionName);
  });
});
