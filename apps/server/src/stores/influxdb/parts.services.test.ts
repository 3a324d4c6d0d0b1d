/**
 * Buckets that land in parts, end to end on a real influxd (METRICS_STORE=influxdb): the same
 * passes and expectations as parts.test.ts on DuckDB (testing/parts-passes.ts), through the real
 * detector service and the InfluxDB store's own read (raw values bucketed in the server,
 * series-buckets.ts). The hold rests on the store answering a bucket read again with the samples
 * that landed since its first read; here that is checked on InfluxDB, not assumed. And a restart
 * from the detector snapshot mid-hold, on InfluxDB too.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { STEP, T0 } from '../../testing/detector-history.ts';
import { useInfluxdForFile } from '../../testing/influxd.ts';
import { assertHeldAndJudgedWhole, PARTS, runParts, SHIFT_AT } from '../../testing/parts-passes.ts';
import { createInfluxDbMetricsStore } from './influxdb-metrics-store.ts';

const influxd = useInfluxdForFile();
let dbs = 0;

/** The store of one run: a database of its own on the file's influxd, closed after the test. */
const influx = (t: TestContext) => async (now: () => number) => {
  const db = `parts_${++dbs}`;
  await influxd().createDatabase(db);
  const store = await createInfluxDbMetricsStore({ url: influxd().url, db, timeoutMs: 30_000, now });
  t.after(() => store.close().catch(() => undefined));
  return store;
};

describe('buckets that land in parts, on InfluxDB', () => {
  it('a POP whose samples of each bucket land partly after its pass: only its series are held back, and its alerts open one pass later with the values of whole buckets', async (t) => {
    const whole = await runParts(t, influx(t), false, 12);
    const parts = await runParts(t, influx(t), true, 12);
    await assertHeldAndJudgedWhole(whole, parts);
  });

  it('restarted from its snapshot while that POP is held back: the same holds and the same alerts as the process that kept running', async (t) => {
    const kept = await runParts(t, influx(t), true, 12);
    // After the pass ending at T0 + 5.5 min: the POP's series waiting, its shift begun and not yet found.
    const restartAfter = SHIFT_AT + 3 * STEP;
    const restarted = await runParts(t, influx(t), true, 12, [restartAfter]);
    assert.equal(kept.heldBack[(restartAfter - T0) / STEP - 1], 3);
    assert.ok(kept.opened.some((a) => a.popCode === PARTS && a.atMs > restartAfter), 'the POP\'s shift opens after the restart');
    assert.deepEqual(restarted.heldBack, kept.heldBack);
    assert.deepEqual(restarted.waiting, kept.waiting);
    assert.deepEqual(restarted.opened, kept.opened);
  });
});
