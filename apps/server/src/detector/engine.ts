/**
 * The regression detector's decision: Page's CUSUM on log latency against a robust,
 * trend-corrected baseline, with the rank test as confirmation. Pure computation with state:
 * no I/O and no clock, so `npm run eval:detector` and the tests run exactly what production runs.
 *
 * Per (POP, function) series, bucket by bucket (each bucket contributes the log of its
 * median, so a spike inside a bucket of several samples is already gone):
 *
 *   baseline  = the series' buckets in [t - recent - baseline, t - recent) (60 minutes ending
 *               10 minutes back): mean and deviation after winsorising at median +- 3 MAD-sigmas
 *   trend     = (its level - the level of the same window 2 x baseline earlier) / that distance;
 *               a fall only when the window halfway between agrees (both halves fall: a daily
 *               descent, not an incident in the older window); the level is carried along it
 *               to the bucket judged
 *   sigma     = the median of the three windows' (baseline, halfway, older)
 *   z_t       = min(zClip, (x_t - level(t)) / (sigma x spread)); a jump above jumpZ after a bucket
 *               below jumpPrevZ counts at most jumpCapZ (a lone spike adds little); spread =
 *               sqrt(v(k) / the baseline's mean of v), v(k) the variance of a median of the bucket's
 *               k samples (1 when every bucket holds as many; countScale)
 *   S_t       = min(h, max(0, S_{t-1} + z_t - k - w))  upper CUSUM: slowdowns only; two arms
 *   w         = wanderK x the wander of the series' function / sigma: how far its level wanders
 *               beyond what its noise explains, and sigma scaled by how much its neighbouring
 *               samples move together (wander.ts; 0 and 1 on independent noise)
 *
 * S stays near 0 under noise and grows by about (shift / sigma - k) per bucket after a
 * shift, so a 2x shift at sigma = 0.25 crosses h in a handful of buckets and a 1.2x one
 * in several minutes. When S >= h the finding is CONFIRMED before it is raised:
 *   - Mann-Whitney U, one-sided: the buckets since S last left 0 (the change point's
 *     estimate) are slower than the baseline's, p < alpha (both carried along the trend);
 *   - the run's median is at least minChange above the baseline's level.
 * Because the baseline ends `recent` before the bucket it judges, a shift has that long to
 * be found before it starts to become the new normal. Why each part is there, measured:
 * docs/notes/detector-tune.md and docs/notes/detector-tune-2.md.
 *
 * State: the buckets of the history span per series (baseline + recent + trend: 190 minutes
 * by default) and S. A pass feeds the buckets that closed since the previous one (`ingest`),
 * then asks `evaluate`. A fresh engine (a new leader, a restart) reads the span plus 30 minutes
 * once and replays the CUSUM over those newest 30 minutes (settings.replayMs; the older buckets
 * are history for the baselines), arriving where a long-running one would be: the store is the
 * state's source of truth. With less history than the span the engine still judges, without
 * the trend until the older window is there.
 *
 * History: a series is judged once it has minBaseline + minRecent of history (15 min by
 * default); until it has the full span, the CUSUM window shrinks first. After a backfill
 * that history is there at the first pass.
 *
 * Hysteresis for an unresolved alert (measured against the alert's own baseline):
 *   confirmed finding                       -> raise (refresh current value and severity)
 *   no finding, and over the last resolveAfter both halves' medians are back within
 *   minChange / 2 of the alert's baseline, with at least 60 % of the buckets present
 *                                           -> resolve (silence is not recovery)
 *   otherwise                               -> unchanged
 */
import type { RegressionFinding } from '../alerts/types.ts';
import type { SeriesBucket, SeriesBucketColumns } from '../stores/metrics-store.ts';
import { mannWhitneyU } from './mann-whitney.ts';
import { lowerBound } from './robust.ts';
import { slideWindow, windowStats, type SortedWindow } from './sorted-window.ts';
import { WANDER_BLOCK_MS, blockOf, blocksOf, closeBlock, emptyBlocks, excessVariance, shortRangeFactor, trimBlocks, type WanderBlocks } from './wander.ts';

export interface DetectorSettings {
  /** Bucket width; every window is whole buckets. */
  stepMs: number;
  /** The CUSUM's window: buckets younger than this are judged, older ones form the baseline. */
  recentMs: number;
  /** Span of the baseline just before the recent window. */
  baselineMs: number;
  /** Shortest baseline and shortest recent window with which a young series is judged. */
  minBaselineMs: number;
  minRecentMs: number;
  /** Fewest buckets a baseline needs. */
  minBaselineBuckets: number;
  /**
   * The CUSUMs run side by side, each a reference value k and a decision interval h in
   * baseline sigmas: a fast one tuned for large shifts (alarms within a handful of buckets)
   * and a slow one for small shifts (accumulates longer, needs a lower k).
   */
  arms: readonly CusumArm[];
  /** Largest contribution of one bucket, in sigmas (spikes); an arm may set its own. */
  zClip: number;
  /**
   * Trend correction: the baseline's level is carried to the bucket judged along the slope
   * between the baseline window and a window of the same length trendMs before it (0: off).
   * A falling slope only when the window halfway agrees (see trendSlope).
   */
  trendMs: number;
  /**
   * The CUSUMs read the running median of this many buckets (1 or 3): with 3, a lone spike
   * never reaches them (a shift costs one bucket of delay).
   */
  smooth: 1 | 3;
  /**
   * A jump: a bucket more than jumpZ sigmas above the baseline right after one below jumpPrevZ
   * sigmas. It counts at most jumpCapZ (Infinity: off). A lone spike is all jump; a large shift
   * loses this on its first bucket mostly (its later buckets are mostly above jumpPrevZ), and a
   * small one hardly ever jumps that far.
   */
  jumpZ: number;
  jumpPrevZ: number;
  jumpCapZ: number;
  /** Sigma from the baseline window and the trend's older window together. */
  poolSigma: boolean;
  /**
   * A falling trend is used too when the window halfway between the two agrees (both halves
   * fall): a daily swing's evening descent is followed, while an incident that sits in the
   * older window alone (one half falls, the other does not) is not taken for a fall.
   */
  trendFall: boolean;
  /**
   * Sigma as the median of the three windows' (baseline, halfway, older): one window holding
   * an incident does not inflate it, and the median of three is steadier than the mean of two.
   */
  sigmaMedian3: boolean;
  /**
   * A fresh engine steps the CUSUMs over only the newest replayMs of the span it reads; older
   * buckets are kept as history (baselines, trend) without being stepped or judged. S is capped
   * at h and an unconfirmed run starts again from 0, so what S holds now was built over the
   * last few minutes (a 1.2x shift reaches h in about 8): stepping 190 minutes to arrive at it
   * was 190 baseline recomputations per series (7 s at 2,115 series). Open regressions older
   * than this already have their alerts in the store.
   */
  replayMs: number;
  /**
   * How far back a steady read reaches for the series that are behind: a series whose newest
   * bucket ended before the last read's end, but within this of the pass's end, is read again from
   * there, so buckets that landed after their pass (an agent that flushes every 30 s, delivery
   * jitter) are still fed to it, in order. Samples landing further behind are late data, which the
   * detector service re-derives (the same bound). Without it a POP whose samples all land 30 s late
   * was never fed by a steady pass: no regression found, and a no_data alert while it reported.
   * NO_DATA_AFTER, within 2-5 minutes (3 by default).
   */
  catchUpMs: number;
  /** Floor of sigma on the log scale (a perfectly steady series must not alert on 1 %). */
  minSigma: number;
  /** One-sided Mann-Whitney significance level of the confirmation. */
  alpha: number;
  /** Smallest relative slowdown that can open an alert (0.1 = +10 %). */
  minChange: number;
  /** Median ratio from which an alert is critical. */
  criticalRatio: number;
  /** An unresolved alert resolves once its series has been back this long. */
  resolveAfterMs: number;
  /** Silence after which a steadily reporting series gets a no_data alert (no-data.ts). */
  noDataAfterMs: number;
  /**
   * Each arm's k is raised by wanderK times the wander of the series' function, in the series'
   * sigmas, and sigma is scaled by the square root of its short-range factor (0: both off): a
   * level that wanders makes runs of buckets sit above the baseline's level with nothing having
   * changed, and neighbouring samples that move together make a run of them look like a shift
   * (wander.ts). Both are medians over the function's series, less two standard errors (so on
   * independent noise they are 0 and 1, and nothing changes); the level's variance is multiplied
   * by wanderGain (the estimate leaves part of a wander out).
   */
  wanderK: number;
  wanderGain: number;
  /**
   * The estimate's window: the wanderSpanMs before a point wanderGuardMs back, so a shift is found
   * (or not) before it can count as wander; refreshed once per wanderEveryMs, for every series at
   * once (aligned to the epoch, so a re-derived engine computes what a long-running one did).
   */
  wanderSpanMs: number;
  wanderGuardMs: number;
  wanderEveryMs: number;
  /**
   * Each bucket judged by the spread of a median of its own sample count: z is divided by
   * sqrt(medianVariance(k) / the baseline window's mean of it), so a bucket of one sample among
   * buckets of several counts for less than one of four (false: every bucket under one sigma).
   * A series whose buckets all hold the same count is judged as before, to the bit.
   */
  countScale: boolean;
  /**
   * The most a bucket's z is raised for holding more samples than its baseline's mix (one of fewer
   * is lowered in full). Raised in full, random arrivals 10 s apart kept 35 false alerts of 37
   * (seeds 1-4), though the eval's samples are independent: its z's came out a little wide (sd
   * 1.016 against 1.008 with one sample a bucket; two-sample buckets, a mean of two in ms, sit
   * 0.05 up), which the CUSUMs' tails multiply; why in full, not found. Raised by at most 1.155
   * (a spread floor of 0.866): 23, the same recall. Real samples of one bucket that move
   * together (one host, one moment) would vary more than independent ones too.
   */
  countBoostMax: number;
}

export interface CusumArm {
  k: number;
  h: number;
  /** This arm's cap on one bucket's z (default: settings.zClip). */
  zClip?: number;
}

/** What the engine needs to know of an unresolved regression alert. */
export interface UnresolvedAlertRef {
  id: string;
  popCode: string;
  functionName: string;
  baselineMs: number;
  /** The alert's stored values: a refresh is raised only when they would change visibly. */
  currentMs?: number;
  severity?: string;
}

export interface Evaluation {
  /** Series with enough history to be judged. */
  evaluated: number;
  /** Findings to raise: new alerts, or refreshes of the pair's unresolved one. */
  raise: RegressionFinding[];
  /** Ids of unresolved alerts whose series is back at baseline. */
  resolve: string[];
  /** Series whose buckets land in parts, their newest buckets held back for one to three passes (PARTS_HOLD_MS). */
  heldBack: number;
}

export interface DetectorConfigLike {
  recentMs: number;
  baselineMs: number;
  minChange: number;
  resolveAfterMs: number;
  stepMs?: number;
  noDataAfterMs?: number;
  /** Count a function's wander (default on). */
  wander?: boolean;
}

/** Settings from config; k, h, zClip and alpha were chosen with `npm run eval:detector`. */
export function detectorSettings(cfg: DetectorConfigLike): DetectorSettings {
  const stepMs = cfg.stepMs ?? 10_000;
  const whole = (ms: number) => Math.max(stepMs, Math.floor(ms / stepMs) * stepMs);
  const recentMs = whole(cfg.recentMs);
  const baselineMs = whole(cfg.baselineMs);
  return {
    stepMs,
    recentMs,
    baselineMs,
    minBaselineMs: Math.min(baselineMs, whole(10 * 60_000)),
    minRecentMs: Math.min(recentMs, whole(5 * 60_000)),
    minBaselineBuckets: 20,
    // Slow arm h 15 (was 14): its false alarms, multiplied by the baseline's error, were most of
    // them; the falling trend bought back more 1.2x recall than the higher h costs. Fast arm k 0.75
    // (was 0.8): a 1.5x shift's p95 202 -> 182 s (18 buckets), at 0.41 -> 0.63 false alerts per
    // 1000 series-hours, every scenario <= 0.82 (docs/notes/tune-3.md).
    arms: [{ k: 0.75, h: 8 }, { k: 0.45, h: 15 }],
    zClip: 2.75,
    // The older window two baseline lengths back: 60 minutes of level each end, two hours apart.
    trendMs: 2 * baselineMs,
    smooth: 1,
    jumpZ: 4,
    // After a bucket below 2 sigma (was 1): a spike after a merely high bucket no longer counts
    // 2.75 (16 % of spikes followed one above 1 sigma, 2 % one above 2); a 2x shift's buckets are
    // above 2 sigma four times in five, a 3x shift's always, and a 1.5x shift rarely jumps 4 sigma.
    jumpPrevZ: 2,
    jumpCapZ: 1,
    poolSigma: true,
    trendFall: true,
    sigmaMedian3: true,
    replayMs: whole(30 * 60_000),
    // As long as a series may be silent before it is no_data (at least the 2 minutes that were
    // the tolerance before, at most 5: the read's cost): one that lands later than that is silent
    // meanwhile, and its samples are late data when they land.
    catchUpMs: whole(Math.min(5 * 60_000, Math.max(2 * 60_000, cfg.noDataAfterMs ?? 3 * 60_000))),
    minSigma: 0.03,
    alpha: 0.01,
    minChange: cfg.minChange,
    criticalRatio: 2,
    resolveAfterMs: whole(cfg.resolveAfterMs),
    noDataAfterMs: cfg.noDataAfterMs ?? 3 * 60_000,
    // A raise of 1.5 wander-sigmas, with sigma scaled by the short-range factor (measured at the
    // fleet's 423 series per function: 2-5 % of wander over 1.5-17 minutes went from 2.1-10 to
    // 0.03-0.50 false alerts per 1000 series-hours, bursts of 10 % over ~14 s from 5.05 to 1.15;
    // a raise of 1.0 left 1.15-1.30; docs/notes/wander2.md). Off: 0, and no scaling.
    wanderK: cfg.wander === false ? 0 : 1.5,
    wanderGain: 2.5,
    wanderSpanMs: 140 * 60_000,
    wanderGuardMs: 40 * 60_000,
    wanderEveryMs: 10 * 60_000,
    countScale: true,
    countBoostMax: 1.155,
  };
}

/** How far back a fresh engine reads to be where a long-running one would be. */
export function historySpanMs(s: DetectorSettings): number {
  return Math.max(s.baselineMs + s.recentMs + s.trendMs, s.resolveAfterMs);
}

/** What a fresh engine reads: the history span before the newest replayMs, which it steps. */
export function rederiveSpanMs(s: DetectorSettings): number {
  return historySpanMs(s) + s.replayMs;
}

/**
 * Whether an engine that has read up to fedUntil (null: nothing) re-derives for a pass ending at
 * endMs: it is fresh, or further behind than a re-derive reads (reading on would cost more).
 */
export function rederivesAt(fedUntil: number | null, endMs: number, s: DetectorSettings): boolean {
  return fedUntil === null || fedUntil < endMs - rederiveSpanMs(s);
}

/** A baseline as the engine computed it (exported for engine-snapshot.ts). */
export interface Baseline {
  /** Level (log) at the window's centre, and its rise per ms (a fall only when consistent; see trendSlope). */
  mu: number;
  slope: number;
  centreMs: number;
  sigma: number;
  /**
   * The mean over the window's buckets of medianVariance(sample count): sigma is the spread of a
   * bucket of that mix (1 for one sample a bucket; exactly medianVariance(k) when all hold k).
   */
  countVar: number;
  /** The window [fromMs, toMs) it was computed over. */
  fromMs: number;
  toMs: number;
}

interface SeriesState {
  popCode: string;
  functionName: string;
  /**
   * Bucket starts (ascending) and logs of bucket medians, the first n entries of each: typed
   * arrays sized once for the span (growing only for an odd cadence), not JS arrays grown by
   * push. A re-derive fills 1,320 buckets per series, 13M at 10,000 series: the arrays' growth
   * copies and their garbage were a fifth of the replay (profiled), and the slack of a grown JS
   * array stayed in memory. x as 32-bit floats: a log of a latency in ms needs nothing near
   * float64's precision (float32's relative step is 6e-8, ~2e-7 absolute at log(50 ms)), and it
   * halves the largest part of a re-derive's state (~50 MB of 1,280 slots at 10,000 series);
   * every statistic is still computed in float64 from these values.
   */
  t: Int32Array;
  x: Float32Array;
  /** Each bucket's sample count (at most MAX_COUNT: beyond, a median's spread hardly narrows). */
  k: Uint8Array;
  n: number;
  /**
   * t holds bucket starts as whole ms after tBase (4 bytes, not 8: ~50 MB of a re-derive's state
   * at 10,000 series); trim moves tBase to the oldest bucket kept, so the offsets stay far below
   * 2^31 ms (24 days).
   */
  tBase: number;
  firstMs: number;
  /** Buckets before this may have been trimmed from t/x. */
  keptFrom: number;
  /** The baseline's window, the trend's older window and the one halfway between, kept sorted as they slide. */
  win: SortedWindow | null;
  olderWin: SortedWindow | null;
  middleWin: SortedWindow | null;
  /**
   * The baseline window's statistics as computed once a minute, oldest first, for the last
   * trendMs: the halfway and older windows are the baseline's of one and two hours ago, the same
   * buckets (none arrives late into a window that ended before the bucket judged), so their
   * statistics are recalled rather than slid and recomputed (bit-identical; a miss slides).
   */
  recs: WindowStatsRecords;
  base: Baseline | null;
  /** One per arm of settings.arms. */
  runs: Run[];
  /** Closed 5-minute blocks' levels and noise (wander.ts), derived from the buckets held. */
  blocks: WanderBlocks;
  /**
   * Buckets in parts (see PARTS_HOLD_MS). seen: the last SEEN_BUCKETS buckets read, as [starts..., sample
   * counts...] at their latest read (by bucket number mod SEEN_BUCKETS; NaN: none read in that slot yet);
   * partsUntil: until when its newest buckets wait; holdSteps: for how many passes (1 to
   * MAX_HOLD_STEPS). A bucket read and not fed is one held back (heldBack).
   */
  seen: Float64Array;
  partsUntil: number;
  holdSteps: number;
}

/** Full-length baseline windows' statistics by the window's end, oldest first (parallel arrays of doubles: ~3 KB per series). */
interface WindowStatsRecords {
  toMs: number[];
  mu: number[];
  sigma: number[];
}

/** One CUSUM arm's state (exported for engine-snapshot.ts). */
export interface Run {
  s: number;
  /** Start of the current run (the first bucket since S was last 0), or NaN while S = 0. */
  startMs: number;
  /** The baseline the current run is measured against (frozen when the run starts). */
  base: Baseline | null;
  /** The run's last confirmation, reused for a minute (a regression keeps S at h: re-testing it every pass is waste). */
  judged: { atMs: number; j: Judgement } | null;
}

export interface DetectorEngine {
  readonly settings: DetectorSettings;
  /**
   * Where the next pass should start reading for a pass ending at endMs: the end of the
   * last bucket fed, or the whole history span for a fresh engine (or one that fell behind).
   */
  readFrom(endMs: number): number;
  /**
   * The series behind the last read, for a steady pass ending at endMs: those whose next bucket, at
   * their own cadence, was due before readUntil() and was not in it, and whose newest bucket ended
   * within settings.catchUpMs of endMs (their later buckets may have landed since), as the oldest
   * such end and their POPs; null when none is (or the engine is
   * fresh). Reading [fromMs, readUntil()) of those POPs and feeding it (ingest*, to readUntil())
   * before the pass's own read feeds them what landed late, in order; buckets a series holds
   * already are not fed again.
   */
  behind(endMs: number): { fromMs: number; pops: string[] } | null;
  /** Feeds the buckets of [readFrom(endMs), endMs) (any order); buckets at or after endMs wait. */
  ingest(buckets: readonly SeriesBucket[], endMs: number): void;
  /**
   * The same as ingest, from columns in ascending startMs (a re-derive's 444k buckets): one
   * state lookup per series, not an object, a key and a sort per bucket.
   */
  ingestColumns(columns: SeriesBucketColumns, endMs: number): void;
  /**
   * ingestColumns in steps: it pauses (yields) after each group of series, so its caller can
   * give the event loop a turn (a 15-minute slice of a re-derive at 10,000 series is ~1 s of
   * replay). The series are independent, so the state after the last step is exactly
   * ingestColumns'; nothing else may touch the engine until the generator is done.
   */
  ingestColumnsStepwise(columns: SeriesBucketColumns, endMs: number): Generator<void, void, undefined>;
  evaluate(unresolved: readonly UnresolvedAlertRef[], endMs: number): Evaluation;
  /**
   * The early look: judges each series' bucket that is still filling (the one starting at
   * readUntil()) on what has landed of it, and returns what evaluate would raise once that bucket
   * closed holding just that, for the series without an unresolved alert. The state is left as it
   * was (the bucket is fed as usual once it closes): the same decisions, up to a step sooner.
   * A series is looked at only when it reports like a clock (LOOK_BUCKETS) and the bucket holds
   * its usual count (a partly landed bucket would be an extra, noisier look), and not when its
   * buckets land in parts (those wait to be judged whole).
   */
  peek(buckets: readonly SeriesBucket[], unresolved: readonly UnresolvedAlertRef[]): RegressionFinding[];
  /** Drops all state: the next pass re-derives it from the store. */
  reset(): void;
  /** The end of the last bucket fed (where a steady pass reads on from); null for a fresh engine. */
  readUntil(): number | null;
  /** Series with state (for /health and tests). */
  size(): number;
  /**
   * The state as it is held, for a snapshot (engine-snapshot.ts); null for a fresh engine. The
   * typed arrays are views of the engine's own: encode them before the next pass.
   */
  exportState(): EngineState | null;
  /** Replaces all state with a snapshot's (copied); the next pass reads on from its fedUntil. */
  importState(state: EngineStateImport): void;
  /**
   * importState in steps (a pause after each group of series, as ingestColumnsStepwise): 10,000
   * series are ~0.3 s of reading and copying. Until it is done the engine is fresh (readUntil null).
   */
  importStateStepwise(state: EngineStateImport): Generator<void, void, undefined>;
  /**
   * Replaces the state of the series of `pops` by another engine's (copied): every series of
   * those POPs is dropped, and each series of `state` of one of them is put in (its place kept
   * when it was held already, at the end when new; series of other POPs in `state` are ignored).
   * Every other series keeps its state and its place, so the evaluation order stays what it was.
   * fedUntil and stepFrom stay this engine's: `state` must be fed to the same end. What the
   * detector does when late data touched only a few POPs: their series re-derived by a fresh
   * engine, the others' long-running state kept.
   */
  replaceSeries(state: EngineStateImport, pops: ReadonlySet<string>): void;
  /**
   * The state itself, series by series as held (not copied), for another engine's takeOver: a
   * re-derive split between two threads (rederive-split.ts) posts it back, its typed arrays
   * transferred (handoverBuffers). The engine must not be used after it.
   */
  handOver(): EngineHandover | null;
  /**
   * Adds the series of another engine's handOver, which holds only functions this one does not,
   * fed over the same slices to the same end, and puts every series in `order` (a SeriesOrder's:
   * where one engine fed every slice would hold it). The functions' wander is merged period by
   * period (each function's is computed from its own series only, so neither engine's changes).
   * After it the engine is the one that one engine fed all the slices would be, bit for bit.
   */
  takeOver(handover: EngineHandover, order: Iterable<string>): void;
  /** A function's wander as the engine counts it for a bucket at tMs (see settings.wanderK). */
  functionWander(functionName: string, tMs: number): FunctionWander;
  /** Every function's wander for a bucket at tMs, of the functions with at least 5 series measured. */
  wanderAt(tMs: number): ReadonlyMap<string, FunctionWander>;
  /** The newest bucket start seen per series (for the no-data check). */
  lastSeen(): Iterable<{ popCode: string; functionName: string; lastMs: number; cadenceMs: number; buckets: number; firstMs: number }>;
  /**
   * The longest silence a series' own recent gaps make ordinary (usualSilenceOf), ms; Infinity
   * for a series it does not hold or has seen once. no-data.ts asks it of series already silent.
   */
  usualSilence(popCode: string, functionName: string): number;
}

/** How a function's latency departs from independent samples (wander.ts), pooled over its series. */
export interface FunctionWander {
  /** Variance of its level beyond its noise over minutes (log scale; times wanderGain; 0: none). */
  level: number;
  /** How much more a 2.5-minute mean varies than independent samples would (1: as much). */
  burst: number;
}

const NO_WANDER: FunctionWander = Object.freeze({ level: 0, burst: 1 });

export interface EngineOptions {
  /**
   * Where the functions' wander comes from (default: this engine's own series). An engine that
   * re-derives a few POPs' series holds too few of a function's series for its median: it takes
   * the main engine's.
   */
  wanderFrom?: Pick<DetectorEngine, 'functionWander'>;
}

export function createDetectorEngine(s: DetectorSettings, opts: EngineOptions = {}): DetectorEngine {
  const series = new Map<string, SeriesState>();
  /** End of the last bucket fed (exclusive); null for a fresh engine. */
  let fedUntil: number | null = null;
  /** Buckets before this are history only (a fresh engine's re-derive; see settings.replayMs). */
  let stepFrom = -Infinity;
  /**
   * What usualSilence works from, as of fedUntil: each function's fleetSlowdowns (computed at the
   * first usualSilence after a read) and the SilenceParts of the series asked so far.
   */
  let silence: { atMs: number; byFunction: Map<string, number> | null; parts: Map<SeriesState, SilenceParts | null> } | null = null;
  /** Each function's wander by the start of the refresh period it holds for (functionWander). */
  const wanderByPeriod = new Map<number, Map<string, FunctionWander>>();
  const wanderSource = opts.wanderFrom ?? { functionWander };
  const span = historySpanMs(s);
  /**
   * Buckets a series holds at most at one bucket per step: the span, trim's two extra minutes,
   * and what arrives before the next trim (a re-derive's 15-minute slice, or trim's chunk of 64).
   */
  const capacity = Math.ceil((span + 2 * 60_000) / s.stepMs) + 128;

  function stateOf(b: Pick<SeriesBucket, 'popCode' | 'functionName' | 'startMs'>): SeriesState {
    const k = key(b.popCode, b.functionName);
    let st = series.get(k);
    if (!st) {
      st = { popCode: b.popCode, functionName: b.functionName, t: new Int32Array(capacity), x: new Float32Array(capacity), k: new Uint8Array(capacity), n: 0, tBase: Math.floor(b.startMs), firstMs: b.startMs, keptFrom: -Infinity, win: null, olderWin: null, middleWin: null, recs: { toMs: [], mu: [], sigma: [] }, base: null, runs: s.arms.map(() => ({ s: 0, startMs: NaN, base: null, judged: null })), blocks: emptyBlocks(), ...notInParts() };
      series.set(k, st);
    }
    return st;
  }

  /** The baseline for a bucket at tMs, recomputed when its window moved by a minute or more (cheap between). */
  function baselineFor(st: SeriesState, tMs: number): Baseline | null {
    const history = tMs - st.firstMs;
    if (history < s.minBaselineMs + s.minRecentMs) return null;
    // Young series: keep the baseline at least minBaseline long by shortening the recent window first.
    const recent = Math.min(s.recentMs, Math.max(s.minRecentMs, history - s.baselineMs));
    const toMs = tMs - recent;
    const fromMs = Math.max(st.firstMs, toMs - s.baselineMs);
    const b = st.base;
    if (b && toMs >= b.toMs && toMs - b.toMs < 60_000) return b;
    st.win = slideWindow(st.win, st.t, st.x, fromMs, toMs, st.keptFrom, st.n, st.tBase);
    if (st.win.n < s.minBaselineBuckets) return (st.base = null);
    const level = windowStats(st.win);
    remember(st, fromMs, toMs, level);
    const older = olderWindow(st, fromMs, toMs);
    const middle = older && (s.trendFall || s.sigmaMedian3) ? middleWindow(st, fromMs, toMs) : null;
    const slope = older ? trendSlope(level.mu, older.mu, middle?.mu) : 0;
    // Sigma from the windows together (a series' scale changes slowly, and more buckets shrink
    // the error that inflates every z); of three, the median, so one incident does not inflate it.
    let scale = level.sigma;
    if (older && middle && s.sigmaMedian3) scale = median3(level.sigma, middle.sigma, older.sigma);
    else if (older && s.poolSigma) scale = Math.sqrt((level.sigma ** 2 + older.sigma ** 2) / 2);
    const countVar = s.countScale ? countVarIn(st, fromMs, toMs) : 1;
    return (st.base = { mu: level.mu, slope, centreMs: (fromMs + toMs) / 2, sigma: Math.max(s.minSigma, scale), countVar, fromMs, toMs });
  }

  /**
   * The same window trendMs earlier, for the baseline's trend: its level minus this one's, over
   * trendMs, is the rise per ms. A baseline centred 40 minutes back lags a drifting series by
   * 40 minutes of drift (+10 %/h: 0.25 sigma at sigma 0.25, more than half the slow arm's k).
   * The slope of one window alone is far too noisy to carry it (a 60-minute window cannot tell
   * 10 %/h from noise); two windows two hours apart can (0.03 sigma of noise where it is used).
   * A fall is used only when the halfway window agrees (trendSlope): a fall computed from an
   * incident that sits in the older window would carry the baseline below the data.
   */
  function olderWindow(st: SeriesState, fromMs: number, toMs: number): { mu: number; sigma: number } | null {
    if (s.trendMs <= 0 || fromMs - s.trendMs < st.firstMs) return null;
    const known = recall(st, fromMs - s.trendMs, toMs - s.trendMs);
    if (known) return known;
    st.olderWin = slideWindow(st.olderWin, st.t, st.x, fromMs - s.trendMs, toMs - s.trendMs, st.keptFrom, st.n, st.tBase);
    return st.olderWin.n < s.minBaselineBuckets ? null : windowStats(st.olderWin);
  }

  /** Keeps the baseline window's statistics for recall (only full-size windows: young series' grow). */
  function remember(st: SeriesState, fromMs: number, toMs: number, level: { mu: number; sigma: number }) {
    if (s.trendMs <= 0 || toMs - fromMs !== s.baselineMs) return;
    const r = st.recs;
    r.toMs.push(toMs);
    r.mu.push(level.mu);
    r.sigma.push(level.sigma);
    // Chunked trim: amortised O(1).
    if (r.toMs.length > 64 && r.toMs[32]! < toMs - s.trendMs) {
      r.toMs.splice(0, 32);
      r.mu.splice(0, 32);
      r.sigma.splice(0, 32);
    }
  }

  /** The statistics of the window [fromMs, toMs) as the baseline's were computed, or null. */
  function recall(st: SeriesState, fromMs: number, toMs: number): { mu: number; sigma: number } | null {
    const r = st.recs;
    if (toMs - fromMs !== s.baselineMs) return null;
    const i = lowerBound(r.toMs, r.toMs.length, toMs);
    return i < r.toMs.length && r.toMs[i] === toMs ? { mu: r.mu[i]!, sigma: r.sigma[i]! } : null;
  }

  /** The window halfway between the baseline's and the older one (trendFall, sigmaMedian3). */
  function middleWindow(st: SeriesState, fromMs: number, toMs: number): { mu: number; sigma: number } | null {
    const back = s.trendMs / 2;
    const known = recall(st, fromMs - back, toMs - back);
    if (known) return known;
    st.middleWin = slideWindow(st.middleWin, st.t, st.x, fromMs - back, toMs - back, st.keptFrom, st.n, st.tBase);
    return st.middleWin.n < s.minBaselineBuckets ? null : windowStats(st.middleWin);
  }

  /**
   * Rise per ms from the older window's level to the baseline's. A rise is used as it is; a fall
   * only when both halves fall (older -> halfway -> baseline), and then the gentlest of the three
   * slopes: an incident that has left the baseline but sits in the older window makes the first
   * half fall and the second not, and carrying the baseline below the data would alert on it.
   */
  function trendSlope(mu: number, olderMu: number, middleMu: number | undefined): number {
    const whole = (mu - olderMu) / s.trendMs;
    if (whole >= 0) return whole;
    if (!s.trendFall || middleMu === undefined) return 0;
    const first = (middleMu - olderMu) / (s.trendMs / 2);
    const second = (mu - middleMu) / (s.trendMs / 2);
    return first < 0 && second < 0 ? Math.max(whole, first, second) : 0;
  }

  /** What the CUSUMs read for a new bucket: its value, or the running median with the two before it. */
  function smoothed(st: SeriesState, tMs: number, x: number): number {
    const n = st.n;
    if (s.smooth === 1 || n < 2 || tMs - (st.tBase + st.t[n - 2]!) > 3 * s.stepMs) return x;
    const a = st.x[n - 1]!;
    const b = st.x[n - 2]!;
    return Math.max(Math.min(a, b), Math.min(Math.max(a, b), x));
  }

  function step(st: SeriesState, tMs: number, raw: number, count: number) {
    const base = baselineFor(st, tMs);
    const x = smoothed(st, tMs, raw);
    let cap = Infinity;
    if (base) {
      const n = st.n;
      const prevMs = n > 0 ? st.tBase + st.t[n - 1]! : -Infinity;
      // Its previous bucket however long ago: counted only within 30 s, a series reporting once a
      // minute or at random had every bucket of a large shift taken for a lone jump (capped), and a
      // 3x shift was found later than a 2x one (the eval at random arrivals 30 s apart: 3.4 min).
      const prevZ = n > 0 ? (st.x[n - 1]! - levelAt(base, prevMs)) / base.sigma : 0;
      if ((x - levelAt(base, tMs)) / base.sigma > s.jumpZ && prevZ < s.jumpPrevZ) cap = s.jumpCapZ;
    }
    // A wandering function's CUSUMs: sigma scaled up by its short-range factor, k raised by its level's wander.
    const wander = base && s.wanderK > 0 ? wanderSource.functionWander(st.functionName, tMs) : NO_WANDER;
    const sigma = base ? base.sigma * Math.sqrt(wander.burst) : 1;
    const boost = wander.level > 0 ? (s.wanderK * Math.sqrt(wander.level)) / sigma : 0;
    const spread = base && s.countScale ? Math.max(1 / s.countBoostMax, countSpread(base, count)) : 1;
    for (let i = 0; i < st.runs.length; i++) {
      const run = st.runs[i]!;
      if (!base) {
        run.s = 0;
        run.startMs = NaN;
        run.base = null;
        run.judged = null;
        continue;
      }
      // Against the current baseline, not the one the run started on: frozen, it lets slow
      // drift pile up inside a long run (measured: 3.5x the false alerts on fast drift).
      const arm = s.arms[i]!;
      const z = Math.min(arm.zClip ?? s.zClip, cap, (x - levelAt(base, tMs)) / (sigma * spread));
      // Capped at h: past h the finding is judged anyway, and an S grown far above h over a
      // long regression would take as long to drain after it ended, holding the alert open.
      const next = Math.min(arm.h, Math.max(0, run.s + z - arm.k - boost));
      if (next === 0) {
        run.startMs = NaN;
        run.base = null;
        run.judged = null;
      } else if (run.s === 0) {
        run.startMs = tMs;
      }
      if (next > 0) run.base = base;
      run.s = next;
    }
  }

  function trim(st: SeriesState, endMs: number) {
    // Two minutes more than the span: the windows slide by a minute and remove what left them.
    const keepFrom = endMs - span - 2 * 60_000;
    let drop = 0;
    while (drop < st.n && st.t[drop]! < keepFrom - st.tBase) drop++;
    trimBlocks(st.blocks, keepFrom);
    // Drop in chunks: amortised O(1) per bucket.
    if (drop > 64 || (drop > 0 && drop === st.n)) {
      st.t.copyWithin(0, drop, st.n);
      st.x.copyWithin(0, drop, st.n);
      st.k.copyWithin(0, drop, st.n);
      st.n -= drop;
      rebase(st);
      st.keptFrom = keepFrom;
    }
  }

  /**
   * The first arm over its h whose run is confirmed. An excursion gets one chance: an arm
   * whose run is not confirmed starts again from 0, so noise cannot retry the same
   * excursion pass after pass until the confirmation gives in; a real shift builds up again
   * within a few buckets.
   */
  function confirm(st: SeriesState, endMs: number): Judgement | null {
    let found: Judgement | null = null;
    for (let i = 0; i < st.runs.length; i++) {
      const run = st.runs[i]!;
      if (!(run.s >= s.arms[i]!.h) || !run.base || Number.isNaN(run.startMs)) continue;
      const reuse = run.judged && endMs - run.judged.atMs < 60_000 ? run.judged.j : null;
      const j: Judgement | null = found ?? reuse ?? judge(st, run.startMs, run.base, endMs);
      if (j && !found && !reuse) run.judged = { atMs: endMs, j };
      if (j) found = j;
      else {
        run.s = 0;
        run.startMs = NaN;
        run.base = null;
        run.judged = null;
      }
    }
    return found;
  }

  /**
   * peek for one series: steps its arms over the bucket and appends it, confirms as evaluate
   * would at the bucket's end, then takes both back. What stepping leaves besides (the baseline
   * window slid to the bucket, a function's wander computed for its period) is what feeding the
   * same bucket computes, so the later feed finds it done and computes nothing different.
   */
  function look(st: SeriesState, startMs: number, p50: number, samples: number): Judgement | null {
    const n = st.n;
    const last = n ? st.tBase + st.t[n - 1]! : -Infinity;
    if (startMs <= last || holdsBack(st) || startMs < st.partsUntil || n === st.t.length || Math.abs(startMs - st.tBase) > OFFSET_MAX) return null;
    // Only a series that reports like a clock: its last LOOK_BUCKETS buckets back to back, each
    // holding as many samples as this one now does (so it is complete, as far as its cadence says).
    if (n < LOOK_BUCKETS || startMs - last !== s.stepMs || last - (st.tBase + st.t[n - LOOK_BUCKETS]!) !== (LOOK_BUCKETS - 1) * s.stepMs) return null;
    for (let i = n - LOOK_BUCKETS; i < n; i++) if (st.k[i] !== Math.min(MAX_COUNT, samples)) return null;
    // One bucket adds at most its arm's z cap less k: an arm further below h than that cannot reach
    // it on this bucket (nearly every series, nearly always: no baseline or wander is looked up).
    if (!s.arms.some((arm, i) => st.runs[i]!.s + (arm.zClip ?? s.zClip) - arm.k >= arm.h)) return null;
    const runs = st.runs.map((r) => ({ ...r }));
    const x = Math.fround(Math.log(p50));
    step(st, startMs, x, samples);
    // Only an arm that reached h can be confirmed: the others are taken back untouched.
    let found: Judgement | null = null;
    if (st.runs.some((r, i) => r.s >= s.arms[i]!.h)) {
      st.t[n] = startMs - st.tBase;
      st.x[n] = x;
      st.k[n] = Math.min(MAX_COUNT, samples);
      st.n = n + 1;
      found = confirm(st, startMs + s.stepMs);
      st.n = n;
    }
    st.runs.forEach((r, i) => Object.assign(r, runs[i]));
    return found;
  }

  function judge(st: SeriesState, fromMs: number, base: Baseline, endMs: number): Judgement | null {
    // The newest hour of the run at most: a long run of an open alert stays cheap to re-check.
    // Both samples are carried to the baseline's centre along its trend, so a drift is not a shift.
    const run = valuesIn(st, Math.max(fromMs, endMs - 60 * 60_000), endMs, base);
    const ref = valuesIn(st, base.fromMs, base.toMs, base);
    if (run.length === 0 || ref.length === 0) return null;
    // The shift's size: the run's median against the baseline's level (minChange is the floor).
    const ratio = Math.exp(medianSorted(run) - base.mu);
    const currentMs = Math.exp(medianSorted(valuesIn(st, Math.max(fromMs, endMs - 60 * 60_000), endMs)));
    const baselineMs = currentMs / ratio;
    if (ratio - 1 < s.minChange) return null;
    if (mannWhitneyU(Array.from(run), Array.from(ref), 'greater').p >= s.alpha) return null;
    return {
      severity: ratio >= s.criticalRatio ? 'critical' : 'warning',
      baselineMs: round3(baselineMs),
      currentMs: round3(currentMs),
      changePct: Math.round((ratio - 1) * 1000) / 10,
    };
  }

  function backAtBaseline(st: SeriesState, alertBaselineMs: number, endMs: number): boolean {
    const from = endMs - s.resolveAfterMs;
    const mid = endMs - s.resolveAfterMs / 2;
    const older = valuesIn(st, from, mid);
    const newer = valuesIn(st, mid, endMs);
    // Mostly covered by data, at the series' own rate: silence is not recovery. The mean gap, not
    // the median: a series whose samples come at random has a median gap ~0.7 of its mean, so it
    // fell short of "mostly covered" a third of the time at a 30 s mean and its alerts stayed open.
    const expected = s.resolveAfterMs / Math.max(s.stepMs, gapsOf(st).meanMs);
    if (older.length + newer.length < Math.max(2, Math.ceil(expected * 0.6)) || older.length === 0 || newer.length === 0) return false;
    const limit = Math.log(alertBaselineMs) + Math.log1p(s.minChange / 2);
    return medianSorted(older) <= limit && medianSorted(newer) <= limit;
  }

  /** Moves tBase to the oldest bucket held (offsets stay small); none held: to `to`. */
  function rebase(st: SeriesState, to?: number) {
    if (st.n === 0 && to === undefined) return;
    const by = st.n > 0 ? st.t[0]! : to! - st.tBase;
    if (by === 0) return;
    for (let i = 0; i < st.n; i++) st.t[i]! -= by;
    st.tBase += by;
  }

  /**
   * One bucket, in time order per series (bucket starts are whole ms: multiples of the step).
   * readEnd: the end of the read it came in (a bucket of a series in parts waits until it is
   * holdSteps passes older than that: a catch-up's end is the last read's, so it holds the same).
   */
  function feed(st: SeriesState, startMs: number, p50: number, samples: number, readEnd = Infinity) {
    startMs = Math.floor(startMs);
    const last = st.n ? st.tBase + st.t[st.n - 1]! : -Infinity;
    const fed = startMs <= last;
    sighted(st, startMs, samples, fed);
    // Already fed (an overlapping read) or older than what we have: the CUSUM only moves forward.
    if (fed) return;
    if (startMs < st.partsUntil && startMs + (st.holdSteps + 1) * s.stepMs > readEnd) {
      // A series whose buckets land in parts: its newest buckets wait for the next reads (which
      // overlap them) rather than be judged on the part that has landed. Later ones wait too.
      return;
    }
    // Rounded as it is stored (float32), so the CUSUM steps on the value every later window holds.
    const x = Math.fround(Math.log(p50));
    if (startMs >= stepFrom) step(st, startMs, x, samples);
    if (Math.abs(startMs - st.tBase) > OFFSET_MAX) {
      // Only when what is held spans ~24 days (a span of days and a series silent in between):
      // hold from this bucket on, rather than an offset that does not fit.
      rebase(st);
      if (Math.abs(startMs - st.tBase) > OFFSET_MAX) {
        st.n = 0;
        st.keptFrom = startMs;
        rebase(st, startMs);
      }
    }
    if (st.n === st.t.length) {
      // Fuller than the span at one bucket per step (a trim has not caught up): grow by half.
      const size = st.n + (st.n >> 1) + 16;
      const t = new Int32Array(size);
      const xs = new Float32Array(size);
      const ks = new Uint8Array(size);
      t.set(st.t);
      xs.set(st.x);
      ks.set(st.k);
      st.t = t;
      st.x = xs;
      st.k = ks;
    }
    // The previous bucket's block is complete once a bucket of a later one arrives (buckets only move forward).
    if (last !== -Infinity && blockOf(last) < blockOf(startMs)) closeLastBlock(st);
    st.t[st.n] = startMs - st.tBase;
    st.x[st.n] = x;
    st.k[st.n] = Math.min(MAX_COUNT, samples);
    st.n++;
  }

  /**
   * A bucket read (again: steady reads overlap MAX_HOLD_STEPS): more samples than at its last read
   * means the series' buckets land in parts; grown after it was fed, they land later than its hold.
   */
  function sighted(st: SeriesState, startMs: number, samples: number, fed: boolean) {
    const seen = st.seen;
    const i = Math.floor(startMs / s.stepMs) % SEEN_BUCKETS;
    // An older bucket than the one its slot remembers (a longer read: a catch-up, a re-derive's
    // slice) is past the steps read again: it must not push out the newer one before that is read.
    if (seen[i]! > startMs) return;
    if (seen[i] === startMs && samples > seen[SEEN_BUCKETS + i]!) {
      if (startMs >= st.partsUntil) st.holdSteps = 1;
      else if (fed) st.holdSteps = Math.min(MAX_HOLD_STEPS, st.holdSteps + 1);
      st.partsUntil = startMs + PARTS_HOLD_MS;
    }
    seen[i] = startMs;
    seen[SEEN_BUCKETS + i] = samples;
  }

  /** Closes the block of the series' newest bucket, unless it is closed already (wander.ts). */
  function closeLastBlock(st: SeriesState) {
    if (st.n === 0) return;
    const from = blockOf(st.tBase + st.t[st.n - 1]!);
    if (st.blocks.startMs.at(-1) === from) return;
    closeBlock(st.blocks, from, st.t, st.x, st.tBase, lowerBound(st.t, st.n, from - st.tBase), st.n, s.stepMs);
  }

  /** After a read up to endMs: trims every series to the span and forgets the silent ones. */
  function settle(endMs: number) {
    fedUntil = Math.max(fedUntil ?? endMs, endMs);
    silence = null;
    for (const [k, st] of series) {
      trim(st, endMs);
      // A series silent for the whole span has nothing left to judge: forget it (memory stays bounded).
      if (st.n === 0 || st.tBase + st.t[st.n - 1]! < endMs - span) series.delete(k);
    }
  }

  /** ingestColumns, pausing after every SERIES_PER_STEP series (see ingestColumnsStepwise). */
  function* feedColumns(c: SeriesBucketColumns, endMs: number): Generator<void, void, undefined> {
    // Series by series, each in time order (a stable counting sort on the series id): the
    // engine's series are independent, and fed in the columns' time order every bucket
    // touched another series' arrays (a re-derive holds ~40 MB of them at 2,115 series, so
    // nearly every bucket was a cache miss; profiled: most of ingestColumns' own time).
    const m = c.startMs.length;
    const keep = (i: number) => keepsBucket(c, i, endMs);
    // States first, in time order of each series' first bucket: the order series are kept (and
    // judged, and listed) in stays what feeding in time order gave.
    const states = new Array<SeriesState | undefined>(c.pops.length).fill(undefined);
    for (let i = 0; i < m; i++) {
      const id = c.series[i]!;
      if (states[id] === undefined && keep(i)) states[id] = stateOf({ popCode: c.pops[id]!, functionName: c.functions[id]!, startMs: c.startMs[i]! });
    }
    const at = new Int32Array(c.pops.length + 1);
    for (let i = 0; i < m; i++) at[c.series[i]! + 1]!++;
    for (let id = 1; id <= c.pops.length; id++) at[id]! += at[id - 1]!;
    const order = new Int32Array(m);
    for (let i = 0; i < m; i++) order[at[c.series[i]!]!++] = i;
    let fedSeries = 0;
    for (let j = 0; j < m; j++) {
      const i = order[j]!;
      if (keep(i)) feed(states[c.series[i]!]!, c.startMs[i]!, c.p50[i]!, c.samples[i]!, endMs);
      // The last bucket of a series (the order is by series): a pause between series only.
      if (j + 1 < m && c.series[order[j + 1]!] !== c.series[i] && ++fedSeries % SERIES_PER_STEP === 0) yield;
    }
    settle(endMs);
  }

  /** importState, pausing after every SERIES_PER_STEP series (see importStateStepwise). */
  function* importSeries(state: EngineStateImport): Generator<void, void, undefined> {
    reset();
    let done = 0;
    for (const e of state.series) {
      series.set(key(e.popCode, e.functionName), imported(e));
      if (++done % SERIES_PER_STEP === 0) yield;
    }
    fedUntil = state.fedUntil;
    stepFrom = state.stepFrom;
  }

  function replaceSeries(state: EngineStateImport, pops: ReadonlySet<string>) {
    silence = null;
    const incoming = new Map<string, SeriesStateExport>();
    for (const e of state.series) if (pops.has(e.popCode)) incoming.set(key(e.popCode, e.functionName), e);
    // Map.set on a key held keeps its place; deleting first would move it to the end.
    for (const [k, st] of series) if (pops.has(st.popCode) && !incoming.has(k)) series.delete(k);
    for (const [k, e] of incoming) series.set(k, imported(e));
  }

  function takeOver(h: EngineHandover, order: Iterable<string>) {
    silence = null;
    if (fedUntil !== h.fedUntil || stepFrom !== h.stepFrom) throw new Error(`engine handover: fed to ${h.fedUntil} from ${h.stepFrom}, this engine to ${fedUntil} from ${stepFrom}`);
    const held = new Map(series);
    for (const raw of h.series) {
      const st = raw as SeriesState;
      if (typeof st.popCode !== 'string' || !(st.t instanceof Int32Array) || !(st.x instanceof Float32Array) || !(st.k instanceof Uint8Array) || st.runs.length !== s.arms.length) throw new Error('engine handover: not a series state of this engine');
      const k = key(st.popCode, st.functionName);
      if (held.has(k)) throw new Error(`engine handover: ${st.popCode}/${st.functionName} is held by both engines`);
      held.set(k, st);
    }
    series.clear();
    for (const k of order) {
      const st = held.get(k);
      if (st) {
        series.set(k, st);
        held.delete(k);
      }
    }
    // Not in the order (it should name every series): kept, at the end.
    for (const [k, st] of held) series.set(k, st);
    // A period both engines computed holds each one's functions; one only one computed lacks the
    // other's, so it is dropped and computed again, for every function, if a bucket needs it.
    const theirs = new Map(h.wander);
    for (const [period, byFunction] of wanderByPeriod) {
      const other = theirs.get(period);
      if (!other) wanderByPeriod.delete(period);
      else for (const [fn, w] of other) byFunction.set(fn, w);
    }
  }

  /** A series' state from its export, copied into arrays of this engine's own. */
  function imported(e: SeriesStateExport): SeriesState {
    if (e.runs.length !== s.arms.length) throw new Error('engine state: one run per arm expected');
    const n = e.t.length;
    const size = Math.max(capacity, n + 128);
    const t = new Int32Array(size);
    const x = new Float32Array(size);
    const k = new Uint8Array(size);
    if (e.k.length !== n) throw new Error('engine state: one sample count per bucket expected');
    t.set(e.t);
    x.set(e.x);
    k.set(e.k);
    const recs = { toMs: Array.from(e.recs.toMs), mu: Array.from(e.recs.mu), sigma: Array.from(e.recs.sigma) };
    const runs = e.runs.map((r) => ({ s: r.s, startMs: r.startMs, base: r.base, judged: r.judged }));
    const [win, olderWin, middleWin] = [0, 1, 2].map((i): SortedWindow | null => {
      const w = e.windows?.[i];
      if (!w) return null;
      const values = new Float32Array(w.values.length + 32);
      values.set(w.values);
      return { fromMs: w.fromMs, toMs: w.toMs, values, n: w.values.length };
    });
    const blocks = blocksOf(t, x, n, e.tBase, s.stepMs);
    // What was learnt of buckets in parts comes along (copied): a series restored mid-hold keeps
    // holding the buckets the running engine would, rather than be fed one part before it learns
    // again. (replaceSeries: a few POPs' re-derive hands over what its own reads saw, as a full one keeps.)
    if (e.parts.seen.length !== 2 * SEEN_BUCKETS) throw new Error(`engine state: ${e.parts.seen.length / 2} buckets seen per series, this engine keeps ${SEEN_BUCKETS}`);
    const parts = { seen: Float64Array.from(e.parts.seen), partsUntil: e.parts.partsUntil, holdSteps: e.parts.holdSteps };
    return { popCode: e.popCode, functionName: e.functionName, t, x, k, n, tBase: e.tBase, firstMs: e.firstMs, keptFrom: e.keptFrom, win: win ?? null, olderWin: olderWin ?? null, middleWin: middleWin ?? null, recs, base: e.base, runs, blocks, ...parts };
  }

  /**
   * The function's wander for a bucket at tMs (NO_WANDER when none is measured): from the median
   * over its series (wander.ts) in the window that ends wanderGuardMs before the start of tMs's
   * refresh period. Computed once per period, for every function at once, on first use: every
   * series has been fed past that window by then (a re-derive's slices are 15 minutes, the guard
   * 40), and the blocks depend on nothing but the buckets, so a re-derive computes what a
   * long-running engine did.
   */
  function functionWander(functionName: string, tMs: number): FunctionWander {
    return wanderAt(tMs).get(functionName) ?? NO_WANDER;
  }

  /** Every function's wander for a bucket at tMs (functions with fewer than 5 series measured are absent). */
  function wanderAt(tMs: number): ReadonlyMap<string, FunctionWander> {
    const period = Math.floor(tMs / s.wanderEveryMs) * s.wanderEveryMs;
    let byFunction = wanderByPeriod.get(period);
    if (!byFunction) {
      const lists = new Map<string, { level: number[]; burst: number[] }>();
      const to = period - s.wanderGuardMs;
      for (const st of series.values()) {
        // A series silent since before the window's end has its last block closed here, as the
        // next bucket would (or a re-derive's import of the buckets) close it.
        if (st.n > 0 && blockOf(st.tBase + st.t[st.n - 1]!) + WANDER_BLOCK_MS <= to) closeLastBlock(st);
        const level = excessVariance(st.blocks, to - s.wanderSpanMs, to);
        const burst = shortRangeFactor(st.blocks, to - s.wanderSpanMs, to);
        if (level === null || Number.isNaN(level) || burst === null) continue;
        let list = lists.get(st.functionName);
        if (!list) lists.set(st.functionName, (list = { level: [], burst: [] }));
        list.level.push(level);
        list.burst.push(burst - 1);
      }
      byFunction = new Map();
      for (const [fn, list] of lists) {
        if (list.level.length >= WANDER_MIN_SERIES) byFunction.set(fn, { level: s.wanderGain * pooledExcess(list.level), burst: 1 + pooledExcess(list.burst) });
      }
      wanderByPeriod.set(period, byFunction);
      // The periods of the replay span: a few POPs' re-derive asks this engine for them (wanderFrom),
      // and its buckets no longer reach back to the oldest of those windows.
      for (const p of wanderByPeriod.keys()) if (p < period - s.replayMs - s.wanderEveryMs) wanderByPeriod.delete(p);
    }
    return byFunction;
  }

  /**
   * The series behind fedUntil whose newest bucket ended within catchUpMs of endMs, and whose next
   * bucket was due (at its own cadence) before fedUntil (see the interface). One that has been
   * silent for longer is not waited for: what lands later than that is late data (re-derived), and
   * the series is silent meanwhile (no_data).
   *
   * A series whose samples come at random (its mean gap over IRREGULAR times its shortest) is
   * silent past its median gap half the time: called behind on that, 99 % of passes at a 30 s mean
   * named ~22 of 40 POPs and read their minutes again. Such a series counts only when its POP as a
   * whole is silent past POP_GAPS of its pooled mean gap (a slow agent holds back all it sends):
   * one quiet function of a POP is not news, the whole POP quiet is.
   */
  function behind(endMs: number): { fromMs: number; pops: string[] } | null {
    if (fedUntil === null || rederivesAt(fedUntil, endMs, s)) return null;
    const floor = endMs - s.catchUpMs;
    // The pass's own read starts MAX_HOLD_STEPS before fedUntil (readFrom): a series whose next bucket is in them needs no catch-up.
    const covered = fedUntil - MAX_HOLD_STEPS * s.stepMs;
    let fromMs = fedUntil;
    const pops = new Set<string>();
    // The POPs of series at random that would be behind by their own gaps, and where the earliest stopped.
    let irregular: Map<string, number> | null = null;
    for (const st of series.values()) {
      if (st.n === 0) continue;
      const last = st.tBase + st.t[st.n - 1]!;
      const end = last + s.stepMs;
      if (end >= covered || end < floor) continue;
      // Not behind when its next bucket was not due within what was read (a series that reports every minute).
      if (last + Math.max(s.stepMs, cadenceOf(st)) >= covered) continue;
      const { g0, meanMs } = gapsOf(st);
      if (meanMs > IRREGULAR * g0) {
        irregular ??= new Map();
        irregular.set(st.popCode, Math.min(irregular.get(st.popCode) ?? Infinity, end));
        continue;
      }
      pops.add(st.popCode);
      if (end < fromMs) fromMs = end;
    }
    if (irregular) {
      // Their POPs' newest bucket and their series' buckets over the last POP_RATE_MS: one pass over the series.
      const seen = new Map<string, { newest: number; buckets: number }>();
      for (const pop of irregular.keys()) if (!pops.has(pop)) seen.set(pop, { newest: -Infinity, buckets: 0 });
      if (seen.size > 0) {
        for (const st of series.values()) {
          const a = seen.get(st.popCode);
          if (!a || st.n === 0) continue;
          a.newest = Math.max(a.newest, st.tBase + st.t[st.n - 1]!);
          a.buckets += st.n - lowerBound(st.t, st.n, fedUntil - POP_RATE_MS - st.tBase);
        }
      }
      for (const [pop, a] of seen) {
        const pooledGap = a.buckets > 0 ? POP_RATE_MS / a.buckets : Infinity;
        if (a.newest + Math.max(s.stepMs, POP_GAPS * pooledGap) < covered) pops.add(pop);
      }
      for (const [pop, end] of irregular) if (pops.has(pop) && end < fromMs) fromMs = end;
    }
    return pops.size === 0 ? null : { fromMs, pops: [...pops] };
  }

  /** This read's usualSilence state (a new one once fedUntil moved). */
  function silenceNow(atMs: number) {
    if (silence?.atMs !== atMs) silence = { atMs, byFunction: null, parts: new Map() };
    return silence;
  }

  function silenceParts(st: SeriesState): SilenceParts | null {
    if (fedUntil === null) return silencePartsOf(st);
    const now = silenceNow(fedUntil);
    let p = now.parts.get(st);
    if (p === undefined) now.parts.set(st, (p = silencePartsOf(st)));
    return p;
  }

  function fleetSlowdown(functionName: string): number {
    if (fedUntil === null) return 1;
    const now = silenceNow(fedUntil);
    now.byFunction ??= fleetSlowdowns(series, fedUntil, s, silenceParts);
    return now.byFunction.get(functionName) ?? 1;
  }

  function reset() {
    silence = null;
    wanderByPeriod.clear();
    series.clear();
    fedUntil = null;
    stepFrom = -Infinity;
  }

  return {
    settings: s,
    readUntil: () => fedUntil,
    readFrom(endMs) {
      // Behind by less than a re-derive reads: reading on from fedUntil is cheaper and steps every bucket.
      if (fedUntil === null || rederivesAt(fedUntil, endMs, s)) {
        reset();
        // replayMs more than the span: every bucket stepped has the history a long-running
        // engine had at that moment (the trend's older window included), not just the last one.
        stepFrom = endMs - s.replayMs;
        return endMs - rederiveSpanMs(s);
      }
      // The last steps again: their samples that landed since they were read tell the series whose
      // buckets land in parts, and buckets held back (or landed just after their pass) are fed from them.
      return fedUntil - MAX_HOLD_STEPS * s.stepMs;
    },
    behind,
    ingest(buckets, endMs) {
      const sorted = buckets.filter((b) => b.startMs < endMs && b.samples > 0 && b.p50 > 0).sort((a, b) => a.startMs - b.startMs);
      for (const b of sorted) feed(stateOf(b), b.startMs, b.p50, b.samples, endMs);
      settle(endMs);
    },
    ingestColumns(c, endMs) {
      const steps = feedColumns(c, endMs);
      while (!steps.next().done);
    },
    ingestColumnsStepwise: feedColumns,
    evaluate(unresolved, endMs) {
      const byKey = new Map(unresolved.map((a) => [key(a.popCode, a.functionName), a]));
      const raise: RegressionFinding[] = [];
      const resolve: string[] = [];
      let evaluated = 0;
      let heldBack = 0;
      for (const [k, st] of series) {
        if (st.base) evaluated++;
        if (holdsBack(st)) heldBack++;
        const alert = byKey.get(k);
        const found = confirm(st, endMs);
        if (found) {
          if (!alert) raise.push({ popCode: st.popCode, functionName: st.functionName, ...found });
          else {
            // A refresh keeps the alert's own baseline: once the baseline has taken in part of the
            // regression, the change against it understates what happened (and would flap the severity).
            const f = anchorTo(found, alert.baselineMs, s);
            if (visiblyDifferent(f, alert)) raise.push({ popCode: st.popCode, functionName: st.functionName, ...f });
          }
        } else if (alert && backAtBaseline(st, alert.baselineMs, endMs)) {
          resolve.push(alert.id);
        }
      }
      return { evaluated, raise, resolve, heldBack };
    },
    peek(buckets, unresolved) {
      if (fedUntil === null) return [];
      const open = new Set(unresolved.map((a) => key(a.popCode, a.functionName)));
      const raise: RegressionFinding[] = [];
      for (const b of buckets) {
        if (b.startMs !== fedUntil || !(b.samples > 0 && b.p50 > 0) || b.startMs < stepFrom) continue;
        const k = key(b.popCode, b.functionName);
        const st = series.get(k);
        if (!st || open.has(k)) continue;
        const found = look(st, b.startMs, b.p50, b.samples);
        if (found) raise.push({ popCode: st.popCode, functionName: st.functionName, ...found });
      }
      return raise;
    },
    reset,
    size: () => series.size,
    exportState() {
      if (fedUntil === null) return null;
      const out: SeriesStateExport[] = [];
      for (const st of series.values()) {
        const windows = [st.win, st.olderWin, st.middleWin].map((w) => (w ? { fromMs: w.fromMs, toMs: w.toMs, values: w.values.subarray(0, w.n) } : null));
        out.push({ popCode: st.popCode, functionName: st.functionName, t: st.t.subarray(0, st.n), x: st.x.subarray(0, st.n), k: st.k.subarray(0, st.n), tBase: st.tBase, firstMs: st.firstMs, keptFrom: st.keptFrom, recs: st.recs, base: st.base, runs: st.runs, windows, parts: { seen: st.seen, partsUntil: st.partsUntil, holdSteps: st.holdSteps } });
      }
      return { fedUntil, stepFrom, series: out };
    },
    importState(state) {
      const steps = importSeries(state);
      while (!steps.next().done);
    },
    importStateStepwise: importSeries,
    replaceSeries,
    handOver() {
      if (fedUntil === null) return null;
      return { fedUntil, stepFrom, series: [...series.values()], wander: [...wanderByPeriod].map(([p, m]) => [p, [...m]]) };
    },
    takeOver,
    functionWander,
    wanderAt,
    *lastSeen() {
      for (const st of series.values()) {
        if (st.n === 0) continue;
        yield { popCode: st.popCode, functionName: st.functionName, lastMs: st.tBase + st.t[st.n - 1]!, cadenceMs: cadenceOf(st), buckets: st.n, firstMs: st.tBase + st.t[0]! };
      }
    },
    usualSilence(popCode, functionName) {
      const st = series.get(key(popCode, functionName));
      return st ? usualSilenceOf(silenceParts(st), s.stepMs, fleetSlowdown(functionName)) : Infinity;
    },
  };
}

/** Whether the engine feeds bucket i of columns fed up to endMs (an empty or zero bucket is not fed). */
export function keepsBucket(c: SeriesBucketColumns, i: number, endMs: number): boolean {
  return c.startMs[i]! < endMs && c.samples[i]! > 0 && c.p50[i]! > 0;
}

/** What handOver gives and takeOver takes: plain data and typed arrays (structured-cloneable). */
export interface EngineHandover {
  fedUntil: number;
  stepFrom: number;
  /** The series' states, in the engine's order (opaque outside the engine). */
  series: readonly unknown[];
  /** The functions' wander by refresh period, as the engine computed it. */
  wander: Array<[number, Array<[string, FunctionWander]>]>;
}

/** The ArrayBuffers a handover's typed arrays live in, once each: its transfer list for postMessage. */
export function handoverBuffers(h: EngineHandover): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const raw of h.series) {
    const st = raw as SeriesState;
    for (const a of [st.t, st.x, st.k, st.win?.values, st.olderWin?.values, st.middleWin?.values]) {
      if (a && a.buffer instanceof ArrayBuffer) out.add(a.buffer);
    }
  }
  return [...out];
}

/**
 * The order one engine fed every slice would hold its series in (the order they are judged and
 * listed in), for slices fed to two engines split by function (rederive-split.ts): a series comes
 * in at its first fed bucket, in the columns' time order, and leaves when settle forgets it (silent
 * for the whole span), to come in again at the end if it speaks again. Mirrors feedColumns and settle.
 */
export interface SeriesOrder {
  /** The columns of one slice, fed (by one engine or the other) up to endMs. */
  observe(c: SeriesBucketColumns, endMs: number): void;
  keys(): Iterable<string>;
}

export function createSeriesOrder(s: DetectorSettings): SeriesOrder {
  const span = historySpanMs(s);
  // Insertion order is the order; the value is the series' newest fed bucket.
  const lastMs = new Map<string, number>();
  return {
    observe(c, endMs) {
      const newest = new Float64Array(c.pops.length).fill(-Infinity);
      const seen: number[] = [];
      for (let i = 0; i < c.startMs.length; i++) {
        if (!keepsBucket(c, i, endMs)) continue;
        const id = c.series[i]!;
        if (newest[id] === -Infinity) {
          seen.push(id);
          const k = key(c.pops[id]!, c.functions[id]!);
          if (!lastMs.has(k)) lastMs.set(k, -Infinity);
        }
        newest[id] = Math.max(newest[id]!, c.startMs[i]!);
      }
      for (const id of seen) {
        const k = key(c.pops[id]!, c.functions[id]!);
        lastMs.set(k, Math.max(lastMs.get(k)!, newest[id]!));
      }
      for (const [k, t] of lastMs) if (t < endMs - span) lastMs.delete(k);
    },
    keys: () => lastMs.keys(),
  };
}

export type Judgement = Omit<RegressionFinding, 'popCode' | 'functionName'>;

/**
 * An engine's state for a snapshot: what a long-running engine holds, except the sorted windows,
 * which a restored engine rebuilds from the buckets by one sort each when it first needs them
 * (the same values sorted: the same bits, so the same statistics). Series in the engine's order.
 */
export interface EngineState {
  fedUntil: number;
  stepFrom: number;
  series: SeriesStateExport[];
}

/** What importState takes: the series may come one at a time (read from a file as they are imported; each copied before the next). */
export interface EngineStateImport {
  fedUntil: number;
  stepFrom: number;
  series: Iterable<SeriesStateExport>;
}

export interface SeriesStateExport {
  popCode: string;
  functionName: string;
  /** The n buckets held: offsets from tBase, and logs of bucket medians (float32, as the engine holds them). */
  t: Int32Array;
  x: Float32Array;
  /** Each bucket's sample count (capped at 255). */
  k: Uint8Array;
  tBase: number;
  firstMs: number;
  keptFrom: number;
  recs: { toMs: ArrayLike<number>; mu: ArrayLike<number>; sigma: ArrayLike<number> };
  base: Baseline | null;
  /** One per arm of settings.arms. */
  runs: Run[];
  /**
   * The baseline's, the older and the halfway window (values: the n sorted, a view), when they
   * are saved; absent or null, a restored engine builds them by a sort when it needs them.
   */
  windows?: ReadonlyArray<{ fromMs: number; toMs: number; values: Float32Array } | null>;
  /**
   * What the series has learnt of buckets landing in parts (see PARTS_HOLD_MS): the sample counts
   * of its last SEEN_BUCKETS buckets as last read (starts, then counts; NaN: none), until when its
   * newest buckets wait, and for how many passes. A view of the engine's own seen.
   */
  parts: { seen: Float64Array; partsUntil: number; holdSteps: number };
}

/** A refresh is written only when it changes what a person sees: severity, or the change by 5 points. */
function visiblyDifferent(f: Judgement, a: UnresolvedAlertRef): boolean {
  if (a.currentMs === undefined || a.severity === undefined) return true;
  if (a.severity !== f.severity) return true;
  const before = a.baselineMs > 0 ? (a.currentMs / a.baselineMs - 1) * 100 : 0;
  return Math.abs(before - f.changePct) >= 5;
}

function anchorTo(f: Judgement, baselineMs: number, s: DetectorSettings): Judgement {
  if (!(baselineMs > 0)) return f;
  const ratio = f.currentMs / baselineMs;
  return { ...f, baselineMs, changePct: Math.round((ratio - 1) * 1000) / 10, severity: ratio >= s.criticalRatio ? 'critical' : 'warning' };
}

/** Median gap between the series' buckets: its reporting cadence (at least one step). */
function cadenceOf(st: SeriesState): number {
  if (st.n < 2) return Infinity;
  const gaps = sortedGaps(st, 31);
  return gaps[gaps.length >> 1]!;
}

/**
 * The series' last `count` (at most SILENCE_GAPS) gaps between buckets, ascending, in a scratch
 * shared by every series (valid until the next call): cadenceOf asks it of every series every
 * pass (lastSeen), so no array is allocated for it.
 */
function sortedGaps(st: SeriesState, count: number): Float64Array {
  const from = Math.max(1, st.n - count);
  const gaps = gapScratch.subarray(0, Math.max(0, st.n - from));
  for (let i = 0; i < gaps.length; i++) gaps[i] = st.t[from + i]! - st.t[from + i - 1]!;
  return gaps.sort();
}

/** A series whose mean gap is over this many times its shortest comes at random, not like a clock (engine.behind). */
const IRREGULAR = 1.5;
/** How far back engine.behind counts a POP's buckets for its pooled mean gap, and how many of those gaps make it behind. */
const POP_RATE_MS = 10 * 60_000;
const POP_GAPS = 5;

/** How many of a series' newest gaps between buckets its usual silence is judged from. */
const SILENCE_GAPS = 128;
/**
 * How many e-folds of its gaps' tail a silence must outlast: a series whose samples come at
 * random goes a whole e-fold longer without one with probability 1/e, so 14 e-folds is 8e-7
 * per gap. With the tail estimated from 128 gaps, a simulation held at most 0.4 false alerts per
 * 1000 series-hours at every mean gap from 10 s to 2 min, also when the traffic swings +-50 %
 * over a day (docs/notes/sparse.md; 12 e-folds: up to 0.9, and 1.6 with that swing).
 */
const SILENCE_EFOLDS = 14;
const gapScratch = new Float64Array(SILENCE_GAPS);

/**
 * The longest silence a series' last SILENCE_GAPS gaps between buckets make ordinary: its
 * shortest gap g0 plus SILENCE_EFOLDS times the scale of the tail beyond it. Bucketed arrivals
 * at random are g0 plus a geometric number of steps (P(more than j) = q^j), whose mean excess e
 * (in steps) gives q = e / (1 + e) and a scale of 1 / ln(1 + 1/e) steps per e-fold. A series
 * that reports like a clock has e ~ 0 and a usual silence of about one gap. Gaps longer than
 * 30 medians (an outage, a restart) are left out of e: one outage does not make the next one
 * ordinary. e is the larger of the window's and its newest RECENT_GAPS gaps' (traffic that falls).
 * Deterministic in the buckets held, so a re-derived engine answers as a running one.
 */
function usualSilenceOf(parts: SilenceParts | null, stepMs: number, fleetSlowdown = 1): number {
  if (!parts) return Infinity;
  const { g0, excessMs, meanMs } = parts;
  // Its function's whole fleet slower now than its hour before (fleetSlowdowns): the series' gaps,
  // as many times longer. Told by thousands of buckets within minutes, where its own 32 gaps take
  // as many of the slower gaps to fill (an hour or two at a sparse rate that fell to a quarter).
  const fleet = fleetSlowdown > 1 ? meanMs * fleetSlowdown : -Infinity;
  const e = Math.max(excessMs, fleet - g0) / stepMs;
  return e > 0 ? g0 + (SILENCE_EFOLDS * stepMs) / Math.log1p(1 / e) : g0;
}

/**
 * What a series' usual silence is made of before its function's fleet (usualSilenceOf): its
 * shortest gap g0, the larger mean excess over g0 of its window's gaps and of its newest ones, and
 * the window's mean gap, ms. The sort of its gaps is most of a usual silence's cost: the engine
 * keeps these per read (silenceParts), as the fleet's counts and the no-data rule both ask them.
 */
interface SilenceParts {
  g0: number;
  excessMs: number;
  meanMs: number;
}

/** A series' SilenceParts; null for one with no gap yet. */
function silencePartsOf(st: SeriesState): SilenceParts | null {
  const { k, g0, meanMs, outageMs } = gapsOf(st);
  if (k === 0) return null;
  // A young series' tail is known to about 1/sqrt(k): it is taken at its 95 % upper bound, as a
  // multiple of a full window's (1 at SILENCE_GAPS gaps, ~2.2 at 5), or its first long gap by
  // chance pages (the eval's first minutes, before this: 4 of 4 false alerts at a 60 s mean).
  const whole = (meanMs - g0) * (meanUpperBound(k) / meanUpperBound(SILENCE_GAPS));
  // Traffic that falls: the window of 128 gaps learns a slower rate about 128 gaps late (an hour
  // at a 30 s mean), and meanwhile the series' ordinary gaps outlast a silence judged by the
  // faster one. Its newest RECENT_GAPS gaps tell it sooner; the larger of the two is taken.
  const recent = recentMeanGap(st, outageMs);
  return { g0, excessMs: Math.max(whole, recent - g0), meanMs };
}

/**
 * How many of a series' newest gaps its usual silence also reads, in time order: enough that their
 * mean is known to ~18 % (1/sqrt(32)), few enough to follow a fall of traffic within ~30 gaps.
 * Taken as they are, not one standard error down: that kept the steady case's delays to the bit
 * but only halved the false alerts when traffic fell (bench/eval-no-data.ts, docs/notes/sparse.md).
 */
const RECENT_GAPS = 32;

/** How far back a function's current rate is counted (fleetSlowdowns), and the span before it it is compared with. */
const FLEET_NOW_MS = 10 * 60_000;
const FLEET_BEFORE_MS = 60 * 60_000;
/** Fewest buckets a function's series must hold in that span before for its rate to be compared. */
const FLEET_MIN_BUCKETS = 200;

/**
 * Per function, how many times slower its series report now (their buckets over the last
 * FLEET_NOW_MS) than over the hour before, pooled over its series: traffic that falls for a whole
 * function (a client stops calling it, a busy hour ends) shows there within minutes. Only slower
 * counts (a function absent: 1). Series silent past noDataAfterMs and their own usual silence, and
 * every series of a POP silent as a whole for noDataAfterMs, are left out of both counts (an outage
 * or a stop is not slower traffic: the POPs that stopped are alerted, and the limits stay, theirs
 * too; left out at noDataAfterMs alone, the sparse series that are merely between samples went
 * too, most of them once the rate had fallen, and the rest counted as too fast; without the POP
 * cut, half the POPs stopping at a 60 s mean had their POP alerts 0.7-1.9 min later), and so are
 * series younger than the span compared (they would count as a rise). The
 * count now is taken two standard errors high, so a function at its usual rate is not called slower by chance.
 */
function fleetSlowdowns(series: ReadonlyMap<string, SeriesState>, atMs: number, s: DetectorSettings, partsOf: (st: SeriesState) => SilenceParts | null): Map<string, number> {
  const fromMs = atMs - FLEET_NOW_MS;
  const beforeMs = fromMs - FLEET_BEFORE_MS;
  const counts = new Map<string, { now: number; before: number }>();
  // Each POP's and each function's newest bucket: a POP or a function silent as a whole for
  // noDataAfterMs is an outage, not slow traffic (a function that stops everywhere would otherwise
  // read as infinitely slower, and hold its own no_data alert back until each series passed its own silence).
  const popNewest = new Map<string, number>();
  const fnNewest = new Map<string, number>();
  for (const st of series.values()) {
    if (st.n === 0) continue;
    const last = st.tBase + st.t[st.n - 1]!;
    if (last > (popNewest.get(st.popCode) ?? -Infinity)) popNewest.set(st.popCode, last);
    if (last > (fnNewest.get(st.functionName) ?? -Infinity)) fnNewest.set(st.functionName, last);
  }
  for (const st of series.values()) {
    if (st.n === 0 || st.tBase + st.t[0]! > beforeMs) continue;
    if (atMs - (popNewest.get(st.popCode)! + s.stepMs) >= s.noDataAfterMs) continue;
    if (atMs - (fnNewest.get(st.functionName)! + s.stepMs) >= s.noDataAfterMs) continue;
    const silentMs = atMs - (st.tBase + st.t[st.n - 1]! + s.stepMs);
    if (silentMs >= s.noDataAfterMs && silentMs >= usualSilenceOf(partsOf(st), s.stepMs)) continue;
    let c = counts.get(st.functionName);
    if (!c) counts.set(st.functionName, (c = { now: 0, before: 0 }));
    const iBefore = lowerBound(st.t, st.n, beforeMs - st.tBase);
    const iFrom = lowerBound(st.t, st.n, fromMs - st.tBase);
    c.before += iFrom - iBefore;
    c.now += lowerBound(st.t, st.n, atMs - st.tBase) - iFrom;
  }
  const out = new Map<string, number>();
  for (const [fn, c] of counts) {
    if (c.before < FLEET_MIN_BUCKETS) continue;
    const expected = (c.before * FLEET_NOW_MS) / FLEET_BEFORE_MS;
    const high = c.now + 2 * Math.sqrt(c.now) + 1;
    if (high < expected) out.set(fn, expected / high);
  }
  return out;
}

/** The mean of a series' newest RECENT_GAPS gaps but those over outageMs; -Infinity with fewer than half of them. */
function recentMeanGap(st: SeriesState, outageMs: number): number {
  let sum = 0;
  let c = 0;
  for (let i = st.n - 1; i >= Math.max(1, st.n - RECENT_GAPS); i--) {
    const gap = st.t[i]! - st.t[i - 1]!;
    if (gap > outageMs) continue;
    sum += gap;
    c++;
  }
  return c >= RECENT_GAPS / 2 ? sum / c : -Infinity;
}

/**
 * A series' last SILENCE_GAPS gaps between buckets but those over 30 medians (outages, restarts):
 * how many (k), the shortest (g0), their mean, and that cut (outageMs), ms.
 */
function gapsOf(st: SeriesState): { k: number; g0: number; meanMs: number; outageMs: number } {
  if (st.n < 2) return { k: 0, g0: NaN, meanMs: Infinity, outageMs: NaN };
  const gaps = sortedGaps(st, SILENCE_GAPS);
  const m = gaps.length;
  const outageMs = 30 * gaps[m >> 1]!;
  let sum = 0;
  let k = 0;
  for (let i = 0; i < m && gaps[i]! <= outageMs; i++, k++) sum += gaps[i]!;
  return { k, g0: gaps[0]!, meanMs: sum / k, outageMs };
}

/**
 * The one-sided 95 % upper bound of an exponential mean estimated from k values, as a multiple of
 * the estimate: 2k / chi2(0.05; 2k), the quantile by Wilson and Hilferty's approximation.
 */
function meanUpperBound(k: number): number {
  // chi2(0.05; v) ~ v (1 - c - 1.6449 sqrt(c))^3 with c = 2 / 9v; v = 2k cancels against the 2k above.
  const c = 2 / (18 * k);
  return 1 / (1 - c - 1.6449 * Math.sqrt(c)) ** 3;
}

/** Sorted log values of the buckets in [fromMs, toMs), carried to base's centre along its trend when given. */
function valuesIn(st: SeriesState, fromMs: number, toMs: number, base?: Baseline): Float64Array {
  const out = rawIn(st, fromMs, toMs);
  if (base && base.slope !== 0) {
    const lo = lowerBound(st.t, st.n, fromMs - st.tBase);
    for (let i = 0; i < out.length; i++) out[i]! -= base.slope * (st.tBase + st.t[lo + i]! - base.centreMs);
  }
  out.sort();
  return out;
}

/** Log values of the buckets in [fromMs, toMs), in time order (a fresh float64 copy: valuesIn carries them along a trend). */
function rawIn(st: SeriesState, fromMs: number, toMs: number): Float64Array {
  const lo = lowerBound(st.t, st.n, fromMs - st.tBase);
  const hi = lowerBound(st.t, st.n, toMs - st.tBase);
  return Float64Array.from(st.x.subarray(lo, Math.max(lo, hi)));
}

/** The baseline's level at tMs: its centre's level carried along its trend. */
function levelAt(b: Baseline, tMs: number): number {
  return b.mu + b.slope * (tMs - b.centreMs);
}

/**
 * The median of a function's series' excess variances, less WANDER_Z of its standard errors (from
 * their spread: 1.2533 x 1.4826 MAD / sqrt(n)), at least 0: on independent noise each estimate
 * is noise around 0, and the median of 40 of them is ~2e-4 by chance, enough to slow the slow
 * arm by a tenth of a sigma if it were taken as it is.
 */
function pooledExcess(list: number[]): number {
  list.sort((a, b) => a - b);
  const med = medianSorted(list);
  const dev = list.map((v) => Math.abs(v - med)).sort((a, b) => a - b);
  const se = (1.2533 * 1.4826 * medianSorted(dev)) / Math.sqrt(list.length);
  return Math.max(0, med - WANDER_Z * se);
}
/** How many standard errors the pooled excess must clear, and the fewest series it is pooled from. */
const WANDER_Z = 2;
const WANDER_MIN_SERIES = 5;

function median3(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}

function medianSorted(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n === 0) return NaN;
  const mid = (n - 1) / 2;
  return (xs[Math.floor(mid)]! + xs[Math.ceil(mid)]!) / 2;
}

/**
 * Series fed between two pauses of ingestColumnsStepwise: ~1.5-3 ms of a re-derive's replay
 * (150 buckets each, 30 of them stepped) on this machine; a pause is a generator step, so the
 * caller decides (by time) when to give the event loop a turn.
 */
const SERIES_PER_STEP = 64;
/**
 * A series whose bucket held more samples when read again, a pass later, than before lands its
 * buckets in parts (several agents, each flushing every few seconds: Telegraf's default is every
 * 10 s): for this long after its last growth, each newest bucket of it waits holdSteps passes
 * to be fed, whole. Judged on the part that had landed, its buckets were noisier than its
 * baseline's, which a re-derive read whole: measured (eval), 3.5x the false alerts with parts
 * landing 0-10 s late (EVAL_PARTS=6:10), 36x with 0-20 s (6:20).
 */
const PARTS_HOLD_MS = 5 * 60_000;
/**
 * The most passes a bucket waits (a bucket that still grows after it was fed raises its series'
 * hold by one, up to this: agents flushing every ~30 s), and so how many steps a steady read
 * reads again.
 */
export const MAX_HOLD_STEPS = 3;
/** Buckets a series remembers the sample count of: the steps read again and the new one (engine-snapshot.ts: a series' parts state is 2 x this + 2 numbers). */
export const SEEN_BUCKETS = MAX_HOLD_STEPS + 1;
/**
 * The early look (peek) judges a bucket still filling only for a series whose last this many
 * buckets (a minute) came back to back, each with the count the bucket now holds: one that
 * reports like a clock (the generator, an agent on a timer), whose bucket is then complete. One
 * whose samples come at random may get another sample in it: judged on the first, then whole,
 * it was looked at twice, and at random 10 s apart that opened 2 false alerts of 25 (seeds 1-4).
 */
const LOOK_BUCKETS = 6;
/** A series not known to land its buckets in parts. */
function notInParts(): Pick<SeriesState, 'seen' | 'partsUntil' | 'holdSteps'> {
  return { seen: new Float64Array(2 * SEEN_BUCKETS).fill(NaN), partsUntil: -Infinity, holdSteps: 1 };
}
/** Whether a series holds back a bucket: one it has read (every bucket read has samples) is newer than the newest it was fed. */
function holdsBack(st: SeriesState): boolean {
  const last = st.n ? st.tBase + st.t[st.n - 1]! : -Infinity;
  for (let i = 0; i < SEEN_BUCKETS; i++) if (st.seen[i]! > last) return true;
  return false;
}
/** Largest bucket offset from a series' tBase (Int32Array). */
const OFFSET_MAX = 2 ** 31 - 1;

const key = (pop: string, fn: string) => `${pop}\u0000${fn}`;
const round3 = (v: number) => Math.round(v * 1000) / 1000;

/** Sample counts above this are kept as this (a median of 255 samples is as steady as one of more, for this purpose). */
const MAX_COUNT = 255;

/**
 * The variance of the median of k independent samples, in units of one sample's (normal; the
 * median of an even count is the mean of the middle two, as DuckDB's quantile_cont and InfluxDB's
 * median take it). Up to 10 the known values (a simulation agreed within 0.3 %), beyond a fit to
 * simulation within 0.5 % (~pi/2k): one sample 1, two 0.5 (their mean), three 0.45, four 0.30.
 * Index 0 (no sample) is never judged; it reads as one.
 */
const MEDIAN_VAR = [1, 1, 0.5, 0.4487, 0.2982, 0.2868, 0.2147, 0.2104, 0.1682, 0.1661, 0.1383];
export function medianVariance(k: number): number {
  if (k <= 1) return 1;
  if (k < MEDIAN_VAR.length) return MEDIAN_VAR[k]!;
  return Math.PI / (2 * (k + (k % 2 === 1 ? 0.45 : 1.4)));
}

/** The baseline window's mean of medianVariance over its buckets' sample counts (see Baseline.countVar). */
function countVarIn(st: SeriesState, fromMs: number, toMs: number): number {
  const lo = lowerBound(st.t, st.n, fromMs - st.tBase);
  const hi = lowerBound(st.t, st.n, toMs - st.tBase);
  if (hi <= lo) return 1;
  const first = st.k[lo]!;
  let same = true;
  let sum = 0;
  for (let i = lo; i < hi; i++) {
    const k = st.k[i]!;
    if (k !== first) same = false;
    sum += medianVariance(k);
  }
  // All alike: that count's own variance, exactly, so such a series' buckets are judged at 1 sigma as before.
  return same ? medianVariance(first) : sum / (hi - lo);
}

/** How much wider than sigma a bucket of this many samples spreads (1 when its count is the baseline's). */
function countSpread(base: Baseline, count: number): number {
  const v = medianVariance(Math.min(MAX_COUNT, count));
  return v === base.countVar ? 1 : Math.sqrt(v / base.countVar);
}
