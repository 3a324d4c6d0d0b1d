import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LineProtocolError, parseLineProtocol, parseLineProtocolAsync } from './index.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Round n's bodies: one whose first line's strings are kept, ~2 MB behind it, and one that fails on its ~2 MB line. */
function bodies(n: number): { body: string; failing: string } {
  const filler = `${'x'.repeat(2_000_000)}${n} v=1\n`;
  return {
    body: `measurement_long_name${n},city=Frankfurt\\ am\\ Main${n},pop=abcdefghijklmnop${n} v=1,s="a string field value ${n}"\n${filler}`,
    failing: `m v=1\n${filler.slice(0, -5)}`,
  };
}

// V8 substrings of 13+ characters are views into the parent string; a store keeping a
// parsed tag value must not keep the whole request body alive with it.
test('parsed strings do not pin the request body', () => {
  const kept: unknown[] = [];
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let n = 0; n < 10; n++) {
    const { body, failing } = bodies(n);
    const [p] = parseLineProtocol(body, { defaultTimeNs: 0n });
    kept.push(p?.measurement, p?.tags, p?.fields);
    try {
      parseLineProtocol(failing, { defaultTimeNs: 0n });
    } catch (err) {
      assert.ok(err instanceof LineProtocolError);
      kept.push(err);
    }
  }
  gc();
  const grownMb = (process.memoryUsage().heapUsed - before) / 1e6;
  // Pinning would retain about 40 MB (two 2 MB bodies per round).
  assert.ok(grownMb < 8, `heap grew ${grownMb.toFixed(1)} MB`);
  assert.equal(kept.length, 40);
});

test('nor do they, nor its errors, when parsed with turns of the event loop (parseLineProtocolAsync)', async () => {
  const kept: unknown[] = [];
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let n = 0; n < 10; n++) {
    const { body, failing } = bodies(n);
    const [p] = await parseLineProtocolAsync(body, { defaultTimeNs: 0n, sliceMs: 0 });
    kept.push(p?.measurement, p?.tags, p?.fields);
    await assert.rejects(parseLineProtocolAsync(failing, { defaultTimeNs: 0n, sliceMs: 0 }), (err) => {
      assert.ok(err instanceof LineProtocolError);
      kept.push(err);
      return true;
    });
  }
  gc();
  const grownMb = (process.memoryUsage().heapUsed - before) / 1e6;
  assert.ok(grownMb < 8, `heap grew ${grownMb.toFixed(1)} MB`);
  assert.equal(kept.length, 40);
});
