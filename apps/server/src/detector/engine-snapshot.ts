/**
 * The detector engine's state on disk, so a restarted leader need not re-derive it from the
 * store (220 minutes read and 30 replayed: 1.3-1.5 s at 2,115 series, 6-8 s at 10,000 on
 * DuckDB, ~13 s on InfluxDB). The leader writes it at a graceful stop; the next process takes
 * it (reads, then deletes it: a snapshot is used once, so a crash later cannot bring back a
 * stale one) and, when it is safe (see the checks below and DetectorService), the engine
 * starts from it and reads on from its fedUntil like after a gap.
 *
 * What is saved: the full state but the sorted windows (the buckets of the span and their sample
 * counts, the runs, the baselines, the record of window statistics, what each series learnt of
 * buckets landing in parts). The buckets are most of it (~12 bytes a bucket, ~150 MB at 10,000
 * series, measured before the counts: they add a byte a bucket, ~13 MB), but re-reading them from the store is most of a first
 * pass (the read, not the replay, on InfluxDB) and the file is read in a fraction of that
 * (docs/notes/snapshot.md). The windows are rebuilt by one sort each when first needed: the
 * same values sorted are the same bits, so the same statistics. Saving them too (opts.windows)
 * was measured: ~0.4 s less at 10,000 series (of ~2 s), for a file 56 % larger and a peak RSS
 * 150-175 MiB higher while it loads; not the default.
 *
 * Read series by series from the open file as the engine imports it (typed-array-file.ts's
 * cursors), not whole: the whole file held beside the state it is copied into raised the
 * restore's peak RSS above the cold re-derive's.
 *
 * Refused (the caller re-derives): another format version, other detector settings (a hash of
 * all of them: step, windows, arms, thresholds), a truncated or damaged file (length and CRC-32
 * in typed-array-file.ts), names that do not match the arrays.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { AlertSeverity } from '@edgeworker/schema';
import { SEEN_BUCKETS, type Baseline, type DetectorSettings, type EngineState, type EngineStateImport, type Run, type SeriesStateExport } from './engine.ts';
import { openTypedArrayFile, TypedArrayFileError, writeTypedArrayFile, type AnyTypedArray, type ArrayToWrite, type ElementType, type TypedArrayFileReader } from './typed-array-file.ts';

/**
 * Bump on any change of what the arrays mean or hold (a Float32Array of values instead of
 * Float64, another field): a snapshot of another version is refused, never misread.
 */
export const SNAPSHOT_VERSION = 4; // 2: bucket values and windows as Float32Array (branch rss-5); 3: each series' parts state (branch partsnap); 4: each bucket's sample count and each baseline's countVar

interface SnapshotMeta {
  version: number;
  settingsHash: string;
  fedUntil: number;
  /** Stored as a string: it may be -Infinity, which JSON has no number for. */
  stepFrom: string;
  savedAtMs: number;
  arms: number;
  /** [popCode, functionName] per series, in the engine's order. */
  names: Array<[string, string]>;
}

/** Baseline fields in a row: present (1/0), then these. */
const BASE = ['mu', 'slope', 'centreMs', 'sigma', 'countVar', 'fromMs', 'toMs'] as const;
const BASE_W = BASE.length + 1;
/** A run's judgement in a row: present, atMs, severity (1 warning, 2 critical), baselineMs, currentMs, changePct. */
const JUDGED_W = 6;
const SEVERITIES: AlertSeverity[] = ['warning', 'critical'];
/**
 * A series' parts state in a row (engine.ts, PARTS_HOLD_MS): its seen buckets' starts and counts,
 * partsUntil, holdSteps. Without it a series restored mid-hold was fed its next part as it stood
 * (nothing known), and judged otherwise than the running engine would have.
 */
const PARTS_W = 2 * SEEN_BUCKETS + 2;

/** A hash of every setting: a snapshot is used only by an engine that would have built the same state. */
export function settingsHash(s: DetectorSettings): string {
  // Numbers as strings: Infinity (jumpCapZ off) must not collapse to JSON's null.
  const text = JSON.stringify(s, (_k, v: unknown) => (typeof v === 'number' ? `n:${v}` : v));
  return createHash('sha256').update(text).digest('hex');
}

export interface SnapshotWritten {
  bytes: number;
  series: number;
  fedUntil: number;
}

/**
 * Writes the engine's state to path (atomically; see writeTypedArrayFile). beforeCommit: the
 * leader's fence check, run before the file replaces an older one. Null when it refused.
 */
export async function writeEngineSnapshot(path: string, state: EngineState, settings: DetectorSettings, savedAtMs: number, beforeCommit?: () => Promise<boolean>, opts: { windows?: boolean } = {}): Promise<SnapshotWritten | null> {
  const withWindows = opts.windows ?? false;
  const series = state.series;
  const arms = settings.arms.length;
  const n = new Int32Array(series.length);
  const recN = new Int32Array(series.length);
  const scalars = new Float64Array(series.length * 3);
  const bases = new Float64Array(series.length * (1 + arms) * BASE_W);
  const runs = new Float64Array(series.length * arms * 2);
  const judged = new Float64Array(series.length * arms * JUDGED_W);
  const parts = new Float64Array(series.length * PARTS_W);
  const t: AnyTypedArray[] = [new Int32Array(0)];
  const x: AnyTypedArray[] = [new Float32Array(0)];
  const k: AnyTypedArray[] = [new Uint8Array(0)];
  const recToMs: AnyTypedArray[] = [new Float64Array(0)];
  const recMu: AnyTypedArray[] = [new Float64Array(0)];
  const recSigma: AnyTypedArray[] = [new Float64Array(0)];
  const names: Array<[string, string]> = [];
  // The three sorted windows per series: bounds, length (-1: none) and values.
  const winBounds = new Float64Array(withWindows ? series.length * 3 * 2 : 0);
  const winN = new Int32Array(withWindows ? series.length * 3 : 0).fill(-1);
  const winValues: AnyTypedArray[] = [new Float32Array(0)];
  series.forEach((st, i) => {
    if (withWindows) {
      for (let w = 0; w < 3; w++) {
        const win = st.windows?.[w];
        if (!win) continue;
        winBounds[(i * 3 + w) * 2] = win.fromMs;
        winBounds[(i * 3 + w) * 2 + 1] = win.toMs;
        winN[i * 3 + w] = win.values.length;
        winValues.push(win.values);
      }
    }
    if (st.runs.length !== arms) throw new Error('engine snapshot: one run per arm expected');
    names.push([st.popCode, st.functionName]);
    n[i] = st.t.length;
    t.push(st.t);
    x.push(st.x);
    k.push(st.k);
    scalars.set([st.tBase, st.firstMs, st.keptFrom], i * 3);
    putBase(bases, i * (1 + arms), st.base);
    if (st.parts.seen.length !== 2 * SEEN_BUCKETS) throw new Error('engine snapshot: another number of buckets seen per series');
    parts.set(st.parts.seen, i * PARTS_W);
    parts[i * PARTS_W + 2 * SEEN_BUCKETS] = st.parts.partsUntil;
    parts[i * PARTS_W + 2 * SEEN_BUCKETS + 1] = st.parts.holdSteps;
    recN[i] = st.recs.toMs.length;
    recToMs.push(Float64Array.from(st.recs.toMs));
    recMu.push(Float64Array.from(st.recs.mu));
    recSigma.push(Float64Array.from(st.recs.sigma));
    st.runs.forEach((r, a) => {
      runs[(i * arms + a) * 2] = r.s;
      runs[(i * arms + a) * 2 + 1] = r.startMs;
      putBase(bases, i * (1 + arms) + 1 + a, r.base);
      const j = (i * arms + a) * JUDGED_W;
      if (r.judged) judged.set([1, r.judged.atMs, SEVERITIES.indexOf(r.judged.j.severity) + 1, r.judged.j.baselineMs, r.judged.j.currentMs, r.judged.j.changePct], j);
    });
  });
  const meta: SnapshotMeta = { version: SNAPSHOT_VERSION, settingsHash: settingsHash(settings), fedUntil: state.fedUntil, stepFrom: String(state.stepFrom), savedAtMs, arms, names };
  const arrays: ArrayToWrite[] = [
    { name: 'n', parts: [n] },
    { name: 'scalars', parts: [scalars] },
    { name: 'bases', parts: [bases] },
    { name: 'runs', parts: [runs] },
    { name: 'judged', parts: [judged] },
    { name: 'parts', parts: [parts] },
    { name: 'recN', parts: [recN] },
    { name: 't', parts: t },
    { name: 'x', parts: x },
    { name: 'k', parts: k },
    { name: 'recToMs', parts: recToMs },
    { name: 'recMu', parts: recMu },
    { name: 'recSigma', parts: recSigma },
    ...(withWindows ? [{ name: 'winBounds', parts: [winBounds] }, { name: 'winN', parts: [winN] }, { name: 'winValues', parts: winValues }] : []),
  ];
  const bytes = await writeTypedArrayFile(path, meta, arrays, beforeCommit);
  return bytes === null ? null : { bytes, series: series.length, fedUntil: state.fedUntil };
}

export type TakenSnapshot =
  | {
      ok: true;
      /**
       * Read once, as importState iterates it: each series is read from the open file when its
       * turn comes (the file is not held in memory whole). Then close().
       */
      state: EngineStateImport;
      series: number;
      savedAtMs: number;
      bytes: number;
      close(): Promise<void>;
    }
  | { ok: false; reason: string };

/**
 * Takes the snapshot at path: opens and checks it, deletes it (whatever it holds: used once;
 * the open descriptor still reads it), and checks it was written for these settings. Null when
 * there is none. Never throws for a bad file: the reason comes back, and the caller re-derives.
 */
export async function takeEngineSnapshot(path: string, settings: DetectorSettings): Promise<TakenSnapshot | null> {
  let file: TypedArrayFileReader;
  try {
    file = await openTypedArrayFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    await rm(path, { force: true });
    if (err instanceof TypedArrayFileError) return { ok: false, reason: err.message };
    return { ok: false, reason: `unreadable: ${(err as Error).message}` };
  }
  // Consumed before it is used: if it cannot be deleted, it is not used (a later start would load it again).
  try {
    await rm(path);
  } catch (err) {
    await file.close();
    return { ok: false, reason: `cannot delete it after reading (${(err as Error).message}), so it is not used` };
  }
  try {
    const taken = await decode(file, settings);
    if (!taken.ok) await file.close();
    return taken;
  } catch (err) {
    await file.close();
    return { ok: false, reason: `damaged: ${(err as Error).message}` };
  }
}

async function decode(file: TypedArrayFileReader, settings: DetectorSettings): Promise<TakenSnapshot> {
  const meta = file.meta as SnapshotMeta;
  if (meta?.version !== SNAPSHOT_VERSION) return { ok: false, reason: `format version ${meta?.version}, this server reads ${SNAPSHOT_VERSION}` };
  if (meta.settingsHash !== settingsHash(settings)) return { ok: false, reason: 'written with other detector settings' };
  const arms = settings.arms.length;
  const small = async <T extends AnyTypedArray>(name: string, type: new (...a: never[]) => T): Promise<T> => {
    const a = await file.read(name);
    if (!(a instanceof type)) throw new Error(`${name}: of another element type`);
    return a;
  };
  const count = meta.names.length;
  // Per series: small (~300 bytes a series), read now.
  const n = await small('n', Int32Array);
  const recN = await small('recN', Int32Array);
  const scalars = await small('scalars', Float64Array);
  const bases = await small('bases', Float64Array);
  const runs = await small('runs', Float64Array);
  const judged = await small('judged', Float64Array);
  const parts = await small('parts', Float64Array);
  const hasWindows = file.has('winN');
  const winN = hasWindows ? await small('winN', Int32Array) : new Int32Array(0);
  const winBounds = hasWindows ? await small('winBounds', Float64Array) : new Float64Array(0);
  const sum = (a: Int32Array) => a.reduce((p, v) => p + Math.max(0, v), 0);
  // The buckets, the records and the windows: read series by series as they are imported.
  const cursor = <T extends AnyTypedArray>(name: string, _type: new (...a: never[]) => T) => {
    const c = file.cursor(name);
    return { next: (k: number) => c.next(k) as T };
  };
  if (meta.arms !== arms || n.length !== count || recN.length !== count || scalars.length !== count * 3 || bases.length !== count * (1 + arms) * BASE_W
    || runs.length !== count * arms * 2 || judged.length !== count * arms * JUDGED_W || parts.length !== count * PARTS_W || (hasWindows && (winN.length !== count * 3 || winBounds.length !== count * 6))) {
    throw new Error('array lengths do not match the series');
  }
  const t = cursor('t', Int32Array);
  const x = cursor('x', Float32Array);
  const k = cursor('k', Uint8Array);
  const recToMs = cursor('recToMs', Float64Array);
  const recMu = cursor('recMu', Float64Array);
  const recSigma = cursor('recSigma', Float64Array);
  const winValues = hasWindows ? cursor('winValues', Float32Array) : null;
  // The big arrays' element types and lengths, checked before anything is imported.
  const expected: Array<[string, ElementType, number]> = [['t', 'Int32', sum(n)], ['x', 'Float32', sum(n)], ['k', 'Uint8', sum(n)], ['recToMs', 'Float64', sum(recN)], ['recMu', 'Float64', sum(recN)], ['recSigma', 'Float64', sum(recN)]];
  if (hasWindows) expected.push(['winValues', 'Float32', sum(winN)]);
  for (const [name, type, length] of expected) {
    const e = file.entry(name);
    if (e.type !== type || e.length !== length) throw new Error(`${name}: ${e.length} ${e.type}, expected ${length} ${type}`);
  }
  function* series(): Generator<SeriesStateExport> {
    for (let i = 0; i < count; i++) {
      const len = n[i]!;
      const rl = recN[i]!;
      const runList: Run[] = [];
      for (let a = 0; a < arms; a++) {
        const j = (i * arms + a) * JUDGED_W;
        runList.push({
          s: runs[(i * arms + a) * 2]!,
          startMs: runs[(i * arms + a) * 2 + 1]!,
          base: getBase(bases, i * (1 + arms) + 1 + a),
          judged: judged[j] === 1 ? { atMs: judged[j + 1]!, j: { severity: SEVERITIES[judged[j + 2]! - 1]!, baselineMs: judged[j + 3]!, currentMs: judged[j + 4]!, changePct: judged[j + 5]! } } : null,
        });
      }
      yield {
        popCode: meta.names[i]![0],
        functionName: meta.names[i]![1],
        // Views of the cursors' buffers: importState copies them before the next series is read.
        t: t.next(len),
        x: x.next(len),
        k: k.next(len),
        tBase: scalars[i * 3]!,
        firstMs: scalars[i * 3 + 1]!,
        keptFrom: scalars[i * 3 + 2]!,
        recs: { toMs: recToMs.next(rl), mu: recMu.next(rl), sigma: recSigma.next(rl) },
        base: getBase(bases, i * (1 + arms)),
        runs: runList,
        // A view of the row: importState copies it.
        parts: { seen: parts.subarray(i * PARTS_W, i * PARTS_W + 2 * SEEN_BUCKETS), partsUntil: parts[i * PARTS_W + 2 * SEEN_BUCKETS]!, holdSteps: parts[i * PARTS_W + 2 * SEEN_BUCKETS + 1]! },
        ...(winValues ? {
          windows: [0, 1, 2].map((w) => {
            const wl = winN[i * 3 + w]!;
            return wl < 0 ? null : { fromMs: winBounds[(i * 3 + w) * 2]!, toMs: winBounds[(i * 3 + w) * 2 + 1]!, values: winValues.next(wl) };
          }),
        } : {}),
      };
    }
  }
  return { ok: true, state: { fedUntil: meta.fedUntil, stepFrom: Number(meta.stepFrom), series: series() }, series: count, savedAtMs: meta.savedAtMs, bytes: file.bytes, close: () => file.close() };
}

function putBase(out: Float64Array, row: number, b: Baseline | null) {
  if (!b) return;
  out[row * BASE_W] = 1;
  BASE.forEach((k, i) => (out[row * BASE_W + 1 + i] = b[k]));
}

function getBase(a: Float64Array, row: number): Baseline | null {
  if (a[row * BASE_W] !== 1) return null;
  const v = (i: number) => a[row * BASE_W + 1 + i]!;
  return { mu: v(0), slope: v(1), centreMs: v(2), sigma: v(3), countVar: v(4), fromMs: v(5), toMs: v(6) };
}
