import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApp } from '../testing/start-app.ts';

describe('dashboard serving', () => {
  it('serves the built app, deep links, assets added after start, and 404s for missing files', async (t) => {
    const dist = mkdtempSync(join(tmpdir(), 'ewm-dist-'));
    t.after(() => rmSync(dist, { recursive: true, force: true }));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(join(dist, 'assets', 'app-1.js'), 'console.log(1)');
    const { url } = await startTestApp(t, { WEB_DIST_DIR: dist });

    const home = await fetch(`${url}/`);
    assert.equal(home.status, 200);
    assert.match(await home.text(), /id="root"/);
    const deep = await fetch(`${url}/pops/FRA?range=1h`);
    assert.equal(deep.status, 200);
    assert.match(deep.headers.get('content-type') ?? '', /text\/html/);

    // A rebuild while running adds a new hashed asset: it is served as what it is.
    writeFileSync(join(dist, 'assets', 'app-2.js'), 'console.log(2)');
    const fresh = await fetch(`${url}/assets/app-2.js`);
    assert.equal(fresh.status, 200);
    assert.match(fresh.headers.get('content-type') ?? '', /javascript/);
    assert.equal((await fetch(`${url}/assets/missing-3.js`)).status, 404);
    assert.equal((await fetch(`${url}/api/unknown`)).status, 404);
  });

  it('says how to build the dashboard when it is missing, while the API works', async (t) => {
    const { url } = await startTestApp(t);
    const home = await fetch(`${url}/`);
    assert.match(await home.text(), /npm run build/);
    assert.equal((await fetch(`${url}/api/functions`)).status, 200);
  });
});
