/**
 * The late-data re-derive's bookkeeping alone (late-rederives.ts): what is owed, when it is due,
 * and what the budget charges. The service-level behaviour is in late-flood.test.ts (real DuckDB).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUDGET_BURST, BUDGET_REFILL_MS, CHARGE_FLOOR, createLateRederives, LATE_REDERIVE_EVERY_MS, OWED_POPS_MAX, PARTIAL_MIN_POPS } from './late-rederives.ts';

const MIN = 60_000;
const codes = (n: number, prefix = 'P') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

test('owed POPs are re-derived as "all" only past PARTIAL_MIN_POPS and past 60 % of the POPs held, judged when paid', () => {
  let held = 423;
  const kindOf = (pops: string[][]) => {
    const late = createLateRederives(() => held);
    for (const p of pops) late.owe(p);
    const took = late.take(0);
    return took.kind === 'due' ? (took.due === 'all' ? 'all' : took.due.size) : took.kind;
  };
  assert.equal(kindOf([codes(200), codes(50, 'Q')]), 250, '250 of 423: POP by POP');
  assert.equal(kindOf([codes(200), codes(50, 'Q'), codes(10, 'R')]), 'all', '260 of 423 is past 60 %');
  held = 4;
  assert.equal(kindOf([codes(PARTIAL_MIN_POPS)]), PARTIAL_MIN_POPS, 'up to 64 always POP by POP, however few are held');
  assert.equal(kindOf([codes(PARTIAL_MIN_POPS), ['X']]), 'all');
  // Against the POPs held when paid, not when owed.
  const late = createLateRederives(() => held);
  held = 423;
  late.owe(codes(100));
  assert.equal(late.state(0).owed, 100);
  held = 100;
  const took = late.take(0);
  assert.equal(took.kind === 'due' && took.due, 'all');
  const many = createLateRederives(() => 20_000);
  many.owe(codes(OWED_POPS_MAX + 1));
  assert.equal(many.owed(), 'all', 'the set kept one by one is bounded');
});

test('the budget: a burst of two full re-derives, then one per BUDGET_REFILL_MS; a few POPs are charged their share, at least CHARGE_FLOOR', () => {
  const late = createLateRederives(() => 400);
  assert.equal(late.state(0).budget, BUDGET_BURST);
  late.owe(undefined);
  assert.equal(late.take(0).kind, 'due');
  late.owe(undefined);
  assert.equal(late.take(LATE_REDERIVE_EVERY_MS / 2).kind, 'none', 'at most one a minute');
  assert.equal(late.take(LATE_REDERIVE_EVERY_MS).kind, 'due');
  late.owe(undefined);
  // 0.125 left at minute 1; a full re-derive waits until the budget holds 1 again: 7 minutes of refill.
  const d = late.take(2 * MIN);
  assert.ok(d.kind === 'deferred' && d.first && d.untilMs === MIN + 0.875 * BUDGET_REFILL_MS, JSON.stringify(d));
  const again = late.take(3 * MIN);
  assert.ok(again.kind === 'deferred' && !again.first, 'the wait starts once');
  assert.deepEqual(late.state(3 * MIN), { owed: 'all', budget: 0.375, deferredUntilMs: 8 * MIN });
  const due = late.take(8 * MIN);
  assert.ok(due.kind === 'due' && due.due === 'all' && due.deferredForMs === 6 * MIN, JSON.stringify(due));
  assert.deepEqual(late.state(8 * MIN), { owed: null, budget: 0, deferredUntilMs: null });
  // One POP of 400 held is charged the floor, not 1/400; 100 of them their share.
  late.owe(['FRA']);
  assert.equal(late.take(9 * MIN).kind, 'due');
  assert.equal(late.state(9 * MIN).budget, 0.125 - CHARGE_FLOOR);
  late.owe(codes(100));
  assert.equal(late.take(10 * MIN).kind, 'deferred', '0.22 held, 0.25 charged');
  assert.equal(late.take(11 * MIN).kind, 'due');
  assert.equal(late.state(11 * MIN).budget, 0.095, "0.375 - floor - 0.25");
});

test('a fresh engine pays what was owed, free of charge', () => {
  const late = createLateRederives(() => 10);
  late.owe(undefined);
  late.paidByFresh();
  assert.equal(late.owed(), null);
  assert.equal(late.take(0).kind, 'none');
  assert.equal(late.state(0).budget, BUDGET_BURST);
});
