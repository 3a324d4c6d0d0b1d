import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createDetectorMetrics } from './metrics.ts';

const pass = { evaluated: 80, created: [], resolved: [], refreshed: 0, durationMs: 12 };
const labels = (text: string, name: string) => [...text.matchAll(new RegExp(`^${name}\\{function="([^"]+)"\\}`, 'gm'))].map((m) => m[1]).sort();

test('the wander gauges show only the functions the last pass counted (no stale labels)', async () => {
  const registry = new Registry();
  const onPass = createDetectorMetrics(registry);
  onPass({ ...pass, wander: { calm: { level: 0, burst: 1 }, wavy: { level: 0.0831, burst: 1.172 } } }, null);
  // wavy's series fell under the 5 the engine pools (POPs stopped reporting it): the engine counts
  // no wander for it any more (engine.ts wanderAt), so the gauge must not keep showing 0.0831.
  onPass({ ...pass, wander: { calm: { level: 0.01, burst: 1 } } }, null);
  let text = await registry.metrics();
  assert.deepEqual(labels(text, 'edgeworker_detector_function_wander'), ['calm']);
  assert.deepEqual(labels(text, 'edgeworker_detector_function_burst'), ['calm']);
  assert.match(text, /edgeworker_detector_function_wander\{function="calm"\} 0\.01\n/);
  // A failed pass counted nothing new: the last pass's figures stay.
  onPass(null, new Error('store down'));
  assert.deepEqual(labels(await registry.metrics(), 'edgeworker_detector_function_wander'), ['calm']);
  // A follower that dropped its engine (cold standby, or the lock unreachable) counts no wander.
  onPass({ ...pass, evaluated: 0, skipped: 'not_leader' }, null);
  text = await registry.metrics();
  assert.deepEqual(labels(text, 'edgeworker_detector_function_wander'), []);
  assert.deepEqual(labels(text, 'edgeworker_detector_function_burst'), []);
});
