import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { waitFor } from '../testing/wait.ts';
import { startDetectorSchedule } from './schedule.ts';

function capturingLog() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('every second: a slow pass never overlaps the next, and a failing pass is logged, not thrown', async (t) => {
  const { log, lines } = capturingLog();
  let active = 0;
  let maxActive = 0;
  let runs = 0;
  const schedule = startDetectorSchedule({
    expression: '* * * * * *',
    log,
    run: async () => {
      runs++;
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        await sleep(1300); // longer than the period
        if (runs === 1) throw new Error('store unreachable');
      } finally {
        active--;
      }
    },
  });
  t.after(() => schedule.stop());
  assert.ok(schedule.nextRun() instanceof Date);
  // Until a second run after the failure, a skipped tick and the logged failure: bounded.
  await waitFor(
    () => runs >= 2 && active === 0 && lines.some((l) => l.msg.includes('still running; skipping')) && lines.some((l) => l.msg.includes('detector pass failed')),
    20_000,
    'a second run, a skipped tick and the logged failure',
  );
  schedule.stop();
  assert.equal(schedule.nextRun(), null, 'stopped');
  assert.ok(runs >= 2, `kept running after a failure (runs=${runs})`);
  assert.equal(maxActive, 1, 'never two passes at once');
  assert.ok(lines.some((l) => l.msg.includes('still running; skipping')), 'the skipped tick is logged');
  assert.ok(lines.some((l) => l.level === 50 && l.msg.includes('detector pass failed')), 'the failure is logged at error');
});

test('an expression that never fires (30 February) stops start-up with a message naming the variable', () => {
  const { log } = capturingLog();
  assert.throws(
    () => startDetectorSchedule({ expression: '0 0 30 2 *', log, run: async () => undefined }),
    /DETECTOR_SCHEDULE=0 0 30 2 \* never fires/,
  );
});

test('an invalid expression throws at once (croner validates the pattern)', () => {
  const { log } = capturingLog();
  assert.throws(() => startDetectorSchedule({ expression: '61 * * * *', log, run: async () => undefined }));
});

test('the default schedule runs each pass just as the newest bucket has settled', async () => {
  const { Cron } = await import('croner');
  const { loadConfig } = await import('../config.ts');
  const { SETTLE_MS } = await import('./detector-service.ts');
  const { schedule, stepMs } = loadConfig({}).detector;
  const runs = new Cron(schedule, { paused: true }).nextRuns(12, new Date(Date.UTC(2026, 11, 1, 10, 0, 0)));
  assert.equal(runs.length, 12);
  for (const run of runs) {
    // What a pass started at this instant reads (detector-service.ts): buckets closed SETTLE_MS ago.
    const endMs = Math.floor((run.getTime() - SETTLE_MS) / stepMs) * stepMs;
    // ...the bucket that has just settled, not one that closed a whole step earlier.
    assert.equal(run.getTime() - endMs, SETTLE_MS, `a pass at ${run.toISOString()} reads up to ${new Date(endMs).toISOString()}`);
  }
  // Every step: no bucket waits for a later pass.
  for (let i = 1; i < runs.length; i++) assert.equal(runs[i]!.getTime() - runs[i - 1]!.getTime(), stepMs);
});
