/**
 * When the store refuses a write, /write answers 503 and nothing of the body is stored;
 * what was acknowledged before is still there. Checked on the real DuckDB file, reopened
 * by a fresh app on the same DATA_DIR.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { getJson, line, write } from '../testing/start-app.ts';

async function start(dataDir: string) {
  const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', WEB_DIST_DIR: join(dataDir, 'no-web'), DETECTOR: 'off', GENERATOR: 'off' });
  const app = await buildApp(config);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}` };
}

describe('/write when the store refuses', () => {
  it('answers 503 with a retry hint and stores nothing of the body', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ewm-refused-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const now = Date.now();
    const first = await start(dataDir);
    assert.equal((await write(first.url, line({ pop: 'LIS', ms: 10, t: now - 1000 }))).status, 204);
    // The store goes away under a running server (a real close of the DuckDB file).
    await first.app.services.store.close();
    const body = [line({ pop: 'LIS', ms: 20, t: now }), line({ pop: 'OPO', ms: 30, t: now })].join('\n');
    const r = await write(first.url, body);
    assert.equal(r.status, 503);
    assert.equal(r.json?.code, 'store_unavailable');
    assert.match(String(r.json?.message), /nothing of it was stored, retry later/);
    await first.app.close();

    const second = await start(dataDir);
    t.after(() => second.app.close());
    const lis = await getJson<{ samples: number; coldStartTime: number }>(`${second.url}/api/pops/LIS?window=1h`);
    assert.equal(lis.body.samples, 1, 'only the acknowledged point');
    assert.equal(lis.body.coldStartTime, 10);
    const heat = await getJson<Array<{ popCode: string; samples: number }>>(`${second.url}/api/heatmap?window=1h`);
    assert.equal(heat.body.find((e) => e.popCode === 'OPO')?.samples ?? 0, 0);
    // The client's retry of the refused body now lands, once.
    assert.equal((await write(second.url, body)).status, 204);
    assert.equal((await getJson<{ samples: number }>(`${second.url}/api/pops/LIS?window=1h`)).body.samples, 2);
  });
});
