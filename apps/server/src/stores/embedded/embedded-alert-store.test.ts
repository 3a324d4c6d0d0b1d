import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertStoreContract, makeAlert } from '../alert-store.contract.ts';
import { createEmbeddedAlertStore } from './embedded-alert-store.ts';

const dirs: string[] = [];
process.on('exit', () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const freshPath = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ewm-alerts-'));
  dirs.push(dir);
  return join(dir, 'alerts.duckdb');
};

alertStoreContract('embedded (DuckDB file)', async () => {
  const path = freshPath();
  return { store: await createEmbeddedAlertStore({ path }), reopen: () => createEmbeddedAlertStore({ path }) };
});

describe('embedded alert store', () => {
  it('creates missing folders under DATA_DIR', async (t) => {
    const path = join(freshPath(), '..', 'nested', 'deeper', 'alerts.duckdb');
    const store = await createEmbeddedAlertStore({ path });
    t.after(() => store.close());
    await store.create(makeAlert());
    assert.equal(await store.countUnresolved(), 1);
  });

  it('names the file it could not open', async () => {
    // A directory where the file should be: DuckDB cannot open it.
    const path = join(freshPath(), '..');
    await assert.rejects(createEmbeddedAlertStore({ path }), (err: Error) =>
      err.message.startsWith(`cannot open the embedded alert store at ${path}`));
  });

  it('refuses calls after close with a clear message', async () => {
    const store = await createEmbeddedAlertStore({ path: freshPath() });
    await store.close();
    await store.close();
    await assert.rejects(store.get('x'), /alert store is closed/);
  });
});
