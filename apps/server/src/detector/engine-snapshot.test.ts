/**
 * The engine snapshot on its own: a restored engine carries on exactly as the one that wrote it
 * (pass after pass, findings included), and every file it must not trust is refused with a
 * reason (another version, other settings, truncated, damaged) and deleted: used once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FUNCTIONS, findPop } from '@edgeworker/pops';
import { createLatencyModel, type Injection } from '@edgeworker/generator';
import type { SeriesBucket } from '../stores/metrics-store.ts';
import { createDetectorEngine, detectorSettings, type DetectorEngine, type Evaluation, type UnresolvedAlertRef } from './engine.ts';
import { SNAPSHOT_VERSION, takeEngineSnapshot, writeEngineSnapshot } from './engine-snapshot.ts';

const MIN = 60_000;
const STEP = 10_000;
const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const settings = detectorSettings({ recentMs: 10 * MIN, baselineMs: 60 * MIN, minChange: 0.1, resolveAfterMs: 5 * MIN });
const SERIES = ['FRA', 'AMS', 'LHR'].flatMap((code) => FUNCTIONS.slice(0, 3).map((fn) => ({ pop: findPop(code)!, fn })));
const inj = (pop: string, fn: number, factor: number, startMs: number, durationMs: number): Injection => ({ pops: [pop], functions: [FUNCTIONS[fn]!.name], factor, startMs, durationMs });
// A shift found before the snapshot and resolving after it, one building up across it, one after it.
const INJECTIONS = [inj('LHR', 2, 3, T0 - 40 * MIN, 25 * MIN), inj('AMS', 1, 1.6, T0 - 4 * MIN, 40 * MIN), inj('FRA', 0, 2, T0 + 10 * MIN, 30 * MIN)];

function buckets(fromMs: number, toMs: number): SeriesBucket[] {
  const model = createLatencyModel({ seed: 11, injections: INJECTIONS, spikeProbability: 0.002 });
  const out: SeriesBucket[] = [];
  for (let t = fromMs; t < toMs; t += STEP) {
    SERIES.forEach(({ pop, fn }, i) => {
      const v = model.sample(pop, fn, t);
      // Buckets of one to three samples: each bucket's count is part of the state (it scales its z).
      out.push({ popCode: pop.code, functionName: fn.name, startMs: t, samples: 1 + ((t / STEP + i) % 3), mean: v, p50: v });
    });
  }
  return out;
}
const DATA = buckets(T0 - 6 * 60 * MIN, T0 + 50 * MIN);

/** One pass as the service runs it, with the open alerts the findings would have made. */
function pass(engine: DetectorEngine, end: number, open: UnresolvedAlertRef[]): Evaluation {
  const from = engine.readFrom(end);
  engine.ingest(DATA.filter((b) => b.startMs >= from && b.startMs < end), end);
  return engine.evaluate(open, end);
}
function apply(ev: Evaluation, open: UnresolvedAlertRef[]): UnresolvedAlertRef[] {
  const next = open.filter((a) => !ev.resolve.includes(a.id));
  for (const f of ev.raise) {
    const i = next.findIndex((a) => a.popCode === f.popCode && a.functionName === f.functionName);
    const ref = { id: `${f.popCode}/${f.functionName}/${f.baselineMs}`, popCode: f.popCode, functionName: f.functionName, baselineMs: f.baselineMs, currentMs: f.currentMs, severity: f.severity };
    if (i < 0) next.push(ref);
    else next[i] = { ...ref, id: next[i]!.id, baselineMs: next[i]!.baselineMs };
  }
  return next;
}

function tempPath(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'ewm-snapshot-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'detector-snapshot.bin');
}

/** An engine that has run for 150 minutes of passes (a re-derive, then steady), and its open alerts. */
function runningEngine() {
  const engine = createDetectorEngine(settings);
  let open: UnresolvedAlertRef[] = [];
  for (let end = T0 - 150 * MIN; end <= T0; end += STEP) open = apply(pass(engine, end, open), open);
  return { engine, open };
}

for (const windows of [false, true]) test(`a restored engine carries on exactly as the one that saved it (sorted windows ${windows ? 'saved' : 'rebuilt'}): every evaluation after a gap and 45 minutes of passes`, async (t) => {
  const path = tempPath(t);
  const { engine: running, open: openAtSave } = runningEngine();
  const written = await writeEngineSnapshot(path, running.exportState()!, settings, T0, undefined, { windows });
  assert.ok(written && written.series === SERIES.length && written.bytes > 0);
  const taken = await takeEngineSnapshot(path, settings);
  assert.ok(taken?.ok, JSON.stringify(taken));
  assert.equal(existsSync(path), false, 'taken: deleted');
  const restored = createDetectorEngine(settings);
  restored.importState(taken.state);
  assert.equal(restored.readUntil(), T0);
  assert.equal(restored.size(), running.size());
  assert.equal(restored.exportState()!.series.every((s) => (s.windows?.filter(Boolean).length ?? 0) > 0), windows);
  await taken.close();
  // Down for 3 minutes: both read on from T0 at their next pass (the buckets of the gap at once).
  let openA = openAtSave;
  let openB = openAtSave;
  let findings = 0;
  let resolved = 0;
  for (let end = T0 + 3 * MIN; end <= T0 + 48 * MIN; end += STEP) {
    const a = pass(running, end, openA);
    const b = pass(restored, end, openB);
    assert.deepEqual(b, a, `pass at T0+${(end - T0) / 1000}s`);
    findings += a.raise.length;
    resolved += a.resolve.length;
    openA = apply(a, openA);
    openB = apply(b, openB);
  }
  // Not a vacuous comparison: findings and resolutions happened after the restart.
  assert.ok(findings > 0, 'findings after the restart');
  assert.ok(resolved > 0, 'resolutions after the restart');
  assert.ok(openAtSave.length > 0, 'an alert open at the snapshot');
  // Rebuilt, a window is built only when needed: the running engine may still hold one it no longer uses.
  const held = (e: DetectorEngine) => {
    const st = e.exportState()!;
    return windows ? st : { ...st, series: st.series.map(({ windows: _w, ...rest }) => rest) };
  };
  assert.deepEqual(held(restored), held(running));
});

test('a snapshot is taken once: the second take finds none', async (t) => {
  const path = tempPath(t);
  const { engine } = runningEngine();
  await writeEngineSnapshot(path, engine.exportState()!, settings, T0);
  assert.equal((await takeEngineSnapshot(path, settings))?.ok, true);
  assert.equal(await takeEngineSnapshot(path, settings), null);
});

// The older one: version 2 has no parts state (what a series learnt of buckets landing in parts).
for (const version of [SNAPSHOT_VERSION - 1, SNAPSHOT_VERSION + 1]) test(`another format version (${version}) is refused (and deleted)`, async (t) => {
  const path = tempPath(t);
  await writeEngineSnapshot(path, runningEngine().engine.exportState()!, settings, T0);
  // The version sits in the header, outside the checksummed body: same length, another number.
  const buf = readFileSync(path);
  const at = buf.indexOf(`"version":${SNAPSHOT_VERSION},`);
  assert.ok(at > 0);
  assert.equal(String(version).length, String(SNAPSHOT_VERSION).length);
  buf.write(`"version":${version},`, at, 'utf8');
  writeFileSync(path, buf);
  const taken = await takeEngineSnapshot(path, settings);
  assert.equal(taken?.ok, false);
  assert.match((taken as { reason: string }).reason, new RegExp(`format version ${version}, this server reads ${SNAPSHOT_VERSION}`));
  assert.equal(existsSync(path), false);
});

test('a snapshot written with other detector settings is refused', async (t) => {
  const path = tempPath(t);
  await writeEngineSnapshot(path, runningEngine().engine.exportState()!, settings, T0);
  const other = detectorSettings({ recentMs: 10 * MIN, baselineMs: 60 * MIN, minChange: 0.2, resolveAfterMs: 5 * MIN });
  const taken = await takeEngineSnapshot(path, other);
  assert.equal(taken?.ok, false);
  assert.match((taken as { reason: string }).reason, /settings/);
});

test('a truncated or damaged file is refused with a reason, never read as numbers, and deleted', async (t) => {
  const path = tempPath(t);
  const state = runningEngine().engine.exportState()!;
  await writeEngineSnapshot(path, state, settings, T0);
  const whole = readFileSync(path);
  const cases: Array<[string, Buffer, RegExp]> = [
    ['truncated', whole.subarray(0, whole.length - 100), /truncated/],
    ['one byte flipped in the body', Buffer.from(whole).fill(0x55, whole.length - 5000, whole.length - 4999), /checksum/],
    ['empty', Buffer.alloc(0), /magic/],
    ['not a snapshot', Buffer.from('hello, world: not a snapshot at all'), /magic/],
  ];
  for (const [what, bytes, reason] of cases) {
    writeFileSync(path, bytes);
    const taken = await takeEngineSnapshot(path, settings);
    assert.equal(taken?.ok, false, what);
    assert.match((taken as { reason: string }).reason, reason, what);
    assert.equal(existsSync(path), false, `${what}: deleted`);
  }
});

test('a write refused by its commit check (a deposed leader) leaves the older snapshot as it was', async (t) => {
  const path = tempPath(t);
  const { engine } = runningEngine();
  await writeEngineSnapshot(path, engine.exportState()!, settings, T0);
  const before = readFileSync(path);
  pass(engine, T0 + MIN, []);
  const refused = await writeEngineSnapshot(path, engine.exportState()!, settings, T0 + MIN, async () => false);
  assert.equal(refused, null);
  assert.ok(readFileSync(path).equals(before));
  assert.equal(existsSync(`${path}.tmp`), false);
});
