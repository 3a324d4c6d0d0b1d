/**
 * The typed-array file on its own: arrays come back with their element type, and a cursor reads
 * an array larger than its buffer in odd counts, across refills, exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTypedArrayFile, writeTypedArrayFile } from './typed-array-file.ts';

test('arrays written in parts come back whole, typed as written; a cursor reads across its buffer refills exactly', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ewm-typed-array-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'f.bin');
  // ~24 MB of doubles (several of the cursor's 4 MB buffers) in parts of uneven sizes; a few odd types beside.
  const big = Float64Array.from({ length: 3_000_001 }, (_, i) => i * 0.5 - 7);
  const parts: Float64Array[] = [];
  for (let at = 0, k = 1; at < big.length; k = (k * 7 + 3) % 100_003) {
    parts.push(big.subarray(at, Math.min(big.length, at + k)));
    at += k;
  }
  const small = new Int16Array([1, -2, 3]);
  const f32 = new Float32Array([0.25, 1e30, -0]);
  await writeTypedArrayFile(path, { hello: 'world' }, [{ name: 'small', parts: [small] }, { name: 'big', parts }, { name: 'f32', parts: [f32] }]);
  const file = await openTypedArrayFile(path);
  try {
    assert.deepEqual(file.meta, { hello: 'world' });
    assert.deepEqual(await file.read('small'), small);
    assert.deepEqual(await file.read('f32'), f32);
    assert.deepEqual(file.entry('big'), { name: 'big', type: 'Float64', length: big.length, offset: 8 });
    const c = file.cursor('big');
    let at = 0;
    for (let k = 1; at < big.length; k = (k * 13 + 5) % 700_001) {
      const n = Math.min(k, big.length - at);
      const got = c.next(n);
      assert.ok(got instanceof Float64Array);
      for (let i = 0; i < n; i++) if (got[i] !== big[at + i]) assert.fail(`element ${at + i}: ${got[i]} != ${big[at + i]}`);
      at += n;
    }
    assert.throws(() => c.next(1), /past its end/);
  } finally {
    await file.close();
  }
});
