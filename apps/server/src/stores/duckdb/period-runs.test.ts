import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runsOf, selectRuns } from './period-runs.ts';

describe('period runs', () => {
  it('split periods far apart (a window\'s two edges) into separate ranges, keep nearby ones together', () => {
    // Minutes 22:02–22:59 at the start of a week, 00:00–00:42 at its end, one dirty minute in the middle of the latter.
    const start = Array.from({ length: 58 }, (_, i) => 1000 + i);
    const end = Array.from({ length: 43 }, (_, i) => 1000 + 7 * 1440 + i).filter((m) => m !== 1000 + 7 * 1440 + 20);
    assert.deepEqual(runsOf([...end, ...start]), [[1000, 1057], [1000 + 7 * 1440, 1000 + 7 * 1440 + 42]]);
    assert.deepEqual(runsOf([5]), [[5, 5]]);
    assert.deepEqual(runsOf([]), []);
    const sql = selectRuns([3, 1, 40], 10n, (lo, hi) => `${lo}-${hi}`);
    assert.equal(sql, '10-40\n UNION ALL 400-410');
  });
});
