import { it } from 'node:test';
import assert from 'node:assert/strict';
import { coarsest, plan } from './planner.ts';

const MIN = 60_000;
const H = 60 * MIN;
const ns = (ms: number) => BigInt(ms) * 1_000_000n;
const T = Date.UTC(2026, 0, 1, 12, 0, 0);
const covered = { coveredFromNs: ns(T - 48 * H), throughNs: ns(T + 37 * MIN) };
const opts = { rawMaxMs: H, rawEdgeMaxMs: 15 * MIN };
const show = (segs: ReturnType<typeof plan>) => segs.map((s) => `${s.resolution} ${(Number(s.fromNs / 1_000_000n) - T) / MIN}..${(Number(s.toNs / 1_000_000n) - T) / MIN}`);

it('plans raw edges, minutes, 10 minutes and whole hours, coarsest in the middle', () => {
  const segs = plan({ fromNs: ns(T - 6 * H + 30_000 - 23 * MIN), toNs: ns(T + 40 * MIN) }, covered, opts);
  assert.deepEqual(show(segs), [
    'raw -382.5..-382', '1m -382..-380', '10m -380..-360', '1h -360..0', '10m 0..30', '1m 30..37', 'raw 37..40',
  ]);
  assert.equal(coarsest(segs), '1h');
  // Contiguous and complete.
  for (let i = 1; i < segs.length; i++) assert.equal(segs[i]!.fromNs, segs[i - 1]!.toNs);
});

it('stays raw for short windows, without coverage, and where the raw part would be long', () => {
  assert.deepEqual(show(plan({ fromNs: ns(T - H), toNs: ns(T) }, covered, opts)), ['raw -60..0']);
  assert.deepEqual(show(plan({ fromNs: ns(T - 6 * H), toNs: ns(T) }, null, opts)), ['raw -360..0']);
  // Rolled up only until 20 min ago: a 20 min raw tail is more than rawEdgeMaxMs.
  assert.deepEqual(show(plan({ fromNs: ns(T - 6 * H), toNs: ns(T) }, { ...covered, throughNs: ns(T - 20 * MIN) }, opts)), ['raw -360..0']);
});

it('uses only levels whose periods fit whole buckets of a time series', () => {
  const r = { fromNs: ns(T - 3 * H), toNs: ns(T + 30 * MIN) };
  assert.deepEqual(show(plan(r, covered, { ...opts, stepMs: 5 * MIN })), ['1m -180..30']);
  assert.deepEqual(show(plan(r, covered, { ...opts, stepMs: 30 * MIN })), ['10m -180..30']);
  assert.deepEqual(show(plan(r, covered, { ...opts, stepMs: H })), ['1h -180..0', '10m 0..30']);
  assert.deepEqual(show(plan(r, covered, { ...opts, stepMs: 10_000 })), ['raw -180..30']);
  assert.equal(coarsest(plan(r, covered, { ...opts, stepMs: 30 * MIN })), '1m');
});
