/** Which no_data findings wait while data of the past lands (past-landing.ts): pure rules. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPastLanding } from './past-landing.ts';

const MIN = 60_000;

test('a POP whose past data lands waits, others do not; the pipeline waits while any POP does; each for the window after its last batch', () => {
  const p = createPastLanding(3 * MIN);
  assert.equal(p.withholds('*', 0), false);
  p.landed(0, ['CDG']);
  assert.equal(p.withholds('CDG', 2 * MIN), true);
  assert.equal(p.withholds('FRA', 2 * MIN), false);
  assert.equal(p.withholds('*', 2 * MIN), true, 'data is arriving: not the pipeline stopping');
  assert.equal(p.withholds('CDG', 3 * MIN), false, 'the window has passed');
  assert.equal(p.withholds('*', 3 * MIN), false);
  p.landed(3 * MIN, ['CDG']);
  assert.equal(p.withholds('CDG', 5 * MIN), true, 'a later batch holds it again');
});

test('a batch that names no POPs holds back every finding', () => {
  const p = createPastLanding(3 * MIN);
  p.landed(0);
  for (const pop of ['FRA', 'CDG', '*']) assert.equal(p.withholds(pop, MIN), true, pop);
  assert.equal(p.withholds('FRA', 3 * MIN), false);
});
