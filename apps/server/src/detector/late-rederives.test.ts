/**
 * The late-data re-derive's bookkeeping alone (late-rederives.ts): what is owed, when it is due,
 * and what the budget charges. The service-level behaviour is in late-flood.test.ts (real DuckDB).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUDGET_BURST, BUDGET_REFILL_MS, CHARGE_FLOOR, createLateRederives, LATE_REDERIVE_EVERY_MS, PARTIAL_MIN_POPS } from './late-rederives.ts';

const MIN = 60_000;
const codes = (n: number, prefix = 'P') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

test('owed POPs become "all" only past PARTIAL_MIN_POPS and past 60 % of the POPs held', () => {
  let held = 423;
  const late = createLateRederives(() => held);
  late.owe(codes(200));
  late.owe(codes(50, 'Q'));
  assert.equal((late.owed() as ReadonlySet<string>).size, 250, '250 of 423: still POP by POP');
  late.owe(codes(10, 'R'));
  assert.equal(late.owed(), 'all', '260 of 423 is past 60 %');
  const few = createLateRederives(() => 4);
  few.owe(codes(PARTIAL_MIN_POPS));
  assert.equal((few.owed() as ReadonlySet<string>).size, PARTIAL_MIN_POPS, 'up to 64 always POP by POP, however few are held');
  few.owe(['X']);
  assert.equal(few.owed(), 'all');
  // Judged again when paid: the engine may hold fewer POPs by then.
  const shrink = createLateRederives(() => held);
  shrink.owe(codes(100));
  held = 100;
  const took = shrink.take(0);
  assert.equal(took.kind === 'due' && took.due, 'all');
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
