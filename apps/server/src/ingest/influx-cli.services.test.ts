/**
 * The real `influx -import` (Debian's influxdb-client, the Go v1 client) against our
 * /write: it sends an empty Content-Type and must get its points stored.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getJson, startTestApp } from '../testing/start-app.ts';

function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('influx CLI import', () => {
  it('influx -import writes its points through /write', async (t) => {
    const { url } = await startTestApp(t);
    const dir = mkdtempSync(join(tmpdir(), 'ewm-import-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const ns = BigInt(Date.now()) * 1_000_000n;
    const lines = Array.from({ length: 25 }, (_, i) => `cold_start_metrics,pop_code=NRT,function_name=auth-check cold_start_time_ms=${40 + i} ${ns - BigInt(i) * 1_000_000_000n}`);
    const file = join(dir, 'import.txt');
    writeFileSync(file, ['# DML', '# CONTEXT-DATABASE: edgeworker', ...lines, ''].join('\n'));
    const { port } = new URL(url);
    const r = await run('influx', ['-import', `-path=${file}`, '-precision=ns', '-host', '127.0.0.1', '-port', port]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /Processed 25 inserts/);
    assert.match(r.out, /Failed 0 inserts/);
    const nrt = await getJson<{ samples: number }>(`${url}/api/pops/NRT?window=1h`);
    assert.equal(nrt.body.samples, 25);
  });
});
