import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chartPair, functionPairs, pairFor, pairText } from './thresholds.ts';

const t = { warnMs: 200, critMs: 400, functions: { 'ssr-render': { warnMs: 400, critMs: 800 }, 'auth-check': { warnMs: 60, critMs: 120 } } };

test('a function is judged by its own pair, others (and all functions) by the default', () => {
  assert.deepEqual(pairFor(t, 'auth-check'), { warnMs: 60, critMs: 120 });
  assert.deepEqual(pairFor(t, 'edge-fn'), { warnMs: 200, critMs: 400 });
  assert.deepEqual(pairFor(t, null), { warnMs: 200, critMs: 400 });
  assert.deepEqual(pairFor({ warnMs: 1, critMs: 2 }, 'auth-check'), { warnMs: 1, critMs: 2 }, 'an older server without pairs');
  assert.deepEqual(functionPairs(t).map(([n]) => n), ['auth-check', 'ssr-render']);
  assert.equal(pairText(pairFor(t, 'ssr-render')), '400 / 800 ms');
});

test('a chart of all functions gets no threshold line while each function has its own pair', () => {
  assert.equal(chartPair(t, null), null);
  assert.deepEqual(chartPair(t, 'ssr-render'), { warnMs: 400, critMs: 800 });
  assert.deepEqual(chartPair(t, 'edge-fn'), { warnMs: 200, critMs: 400 });
  assert.deepEqual(chartPair({ warnMs: 1, critMs: 2 }, null), { warnMs: 1, critMs: 2 }, 'an older server: one pair judges every function');
});
