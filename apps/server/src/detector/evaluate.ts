/**
 * The regression detector's decision, as a pure function: bucketed series + the
 * unresolved alerts + settings + the pass's end time -> findings to raise and alert
 * ids to resolve. No I/O and no clock, so the evaluation (bench/eval-detector.ts)
 * and the tests run exactly what production runs.
 *
 * Per (POP, function) series, with buckets of `stepMs` (each bucket contributes its
 * median, so a single spike inside a bucket is already gone):
 *
 *   baseline = buckets in [end - recent - baseline, end - recent)
 *   recent   = buckets in [end - recent, end)
 *
 * A series is a REGRESSION when all of these hold:
 *   1. enough data: >= minRecentBuckets / minBaselineBuckets buckets and
 *      >= minRecentSamples / minBaselineSamples samples in the two windows;
 *   2. the medians moved: median(recent) / median(baseline) - 1 >= minChange, and
 *      the newer half of the recent window alone too (sustained up to now);
 *   3. the typical pairwise ratio moved too: the Hodges-Lehmann estimate
 *      median over (i, j) of recent_i / baseline_j, minus 1, >= minChange
 *      (the shift estimate that belongs to the rank test; less noisy than a
 *      difference of two medians, so noise alone rarely clears both);
 *   4. the rank test says slower: Mann-Whitney U one-sided p < alpha.
 * A single spike moves neither median; slow drift moves the recent window only a
 * little against the hour just before it; a sustained shift moves everything.
 * Severity: critical when the median ratio >= criticalRatio (2x), else warning.
 *
 * State transitions of an unresolved alert (the hysteresis):
 *   finding this pass                      -> raise (refresh current value and severity,
 *                                             measured against the alert's own baseline)
 *   no finding, and the upper quartile of the bucket medians over the last
 *   resolveAfter is back within minChange of the alert's baseline (at least
 *   three quarters of that time back, not one lucky minute)   -> resolve
 *   otherwise (still high, or not enough data yet)            -> unchanged
 */
import type { RegressionFinding } from '../alerts/types.ts';
import type { SeriesBucket } from '../stores/metrics-store.ts';
import { mannWhitneyU } from './mann-whitney.ts';

export interface DetectorSettings {
  /** Bucket width; windows are whole buckets. */
  stepMs: number;
  recentMs: number;
  baselineMs: number;
  /** Smallest relative shift of the medians that can open an alert (0.2 = +20 %). */
  minChange: number;
  /** One-sided Mann-Whitney significance level. */
  alpha: number;
  minRecentBuckets: number;
  minBaselineBuckets: number;
  minRecentSamples: number;
  minBaselineSamples: number;
  /** Median ratio from which an alert is critical. */
  criticalRatio: number;
  /** An unresolved alert resolves once its series has been back this long. */
  resolveAfterMs: number;
}

/** What evaluate needs to know of an unresolved alert. */
export interface UnresolvedAlertRef {
  id: string;
  popCode: string;
  functionName: string;
  baselineMs: number;
}

export interface EvaluateInput {
  buckets: readonly SeriesBucket[];
  unresolved: readonly UnresolvedAlertRef[];
  settings: DetectorSettings;
  /** End of the evaluated range (exclusive), epoch ms; aligned to stepMs by the caller. */
  endMs: number;
}

export interface Evaluation {
  /** Series with enough data in both windows to be judged. */
  evaluated: number;
  /** Findings to raise: new alerts, or refreshes of the pair's unresolved one. */
  raise: RegressionFinding[];
  /** Ids of unresolved alerts whose series is back at baseline. */
  resolve: string[];
}

/** Defaults for the windows of config.detector; the rest were chosen with `npm run eval:detector`. */
export function detectorSettings(cfg: { recentMs: number; baselineMs: number; minChange: number; resolveAfterMs: number }): DetectorSettings {
  // Ten buckets in the recent window: enough for the rank test, each bucket with
  // several samples at the generator's 10 s interval.
  const stepMs = Math.max(1000, Math.floor(cfg.recentMs / 10));
  const recentBuckets = Math.floor(cfg.recentMs / stepMs);
  const baselineBuckets = Math.floor(cfg.baselineMs / stepMs);
  return {
    stepMs,
    recentMs: recentBuckets * stepMs,
    baselineMs: baselineBuckets * stepMs,
    minChange: cfg.minChange,
    alpha: 0.01,
    minRecentBuckets: Math.max(3, Math.ceil(recentBuckets * 0.6)),
    minBaselineBuckets: Math.max(5, Math.ceil(baselineBuckets * 0.5)),
    minRecentSamples: 10,
    minBaselineSamples: 30,
    criticalRatio: 2,
    resolveAfterMs: cfg.resolveAfterMs,
  };
}

/** The range evaluate needs for a pass ending at endMs: [from, endMs). */
export function evaluationRange(settings: DetectorSettings, endMs: number): { fromMs: number; toMs: number } {
  const span = Math.max(settings.recentMs + settings.baselineMs, settings.resolveAfterMs);
  return { fromMs: endMs - span, toMs: endMs };
}

export function evaluate(input: EvaluateInput): Evaluation {
  const { settings: s, endMs } = input;
  const recentFrom = endMs - s.recentMs;
  const baselineFrom = recentFrom - s.baselineMs;
  const resolveFrom = endMs - s.resolveAfterMs;

  const series = groupBySeries(input.buckets, endMs);
  const unresolvedByKey = new Map(input.unresolved.map((a) => [key(a.popCode, a.functionName), a]));
  const raise: RegressionFinding[] = [];
  const resolve: string[] = [];
  let evaluated = 0;

  for (const [k, buckets] of series) {
    const recent = buckets.filter((b) => b.startMs >= recentFrom);
    const baseline = buckets.filter((b) => b.startMs >= baselineFrom && b.startMs < recentFrom);
    const judged = hasEnoughData(recent, baseline, s);
    if (judged) evaluated++;
    const finding = judged ? judge(recent, baseline, s) : null;
    const first = buckets[0]!;
    const alert = unresolvedByKey.get(k);
    if (finding) {
      // A refresh keeps the alert's own baseline: once the baseline window has taken in part of the
      // regression, the change against it understates what happened (and would flap the severity).
      const f = alert ? anchorTo(finding, alert.baselineMs, s) : finding;
      raise.push({ popCode: first.popCode, functionName: first.functionName, ...f });
    }

    if (alert && !finding && isBackAtBaseline(buckets.filter((b) => b.startMs >= resolveFrom), alert.baselineMs, s)) {
      resolve.push(alert.id);
    }
  }
  return { evaluated, raise, resolve };
}

function judge(recent: SeriesBucket[], baseline: SeriesBucket[], s: DetectorSettings): Judgement | null {
  const r = recent.map((b) => b.p50);
  const b = baseline.map((x) => x.p50);
  const baselineMs = median(b);
  const currentMs = median(r);
  if (!(baselineMs > 0)) return null;
  const ratio = currentMs / baselineMs;
  if (ratio - 1 < s.minChange) return null;
  // Sustained up to now: the newer half of the recent window alone is above the bar too.
  if (median(r.slice(Math.floor(r.length / 2))) / baselineMs - 1 < s.minChange) return null;
  if (hodgesLehmannRatio(r, b) - 1 < s.minChange) return null;
  if (mannWhitneyU(r, b, 'greater').p >= s.alpha) return null;
  return {
    severity: ratio >= s.criticalRatio ? 'critical' : 'warning',
    baselineMs: round3(baselineMs),
    currentMs: round3(currentMs),
    changePct: Math.round((ratio - 1) * 1000) / 10,
  };
}

type Judgement = Omit<RegressionFinding, 'popCode' | 'functionName'>;

function anchorTo(f: Judgement, baselineMs: number, s: DetectorSettings): Judgement {
  if (!(baselineMs > 0)) return f;
  const ratio = f.currentMs / baselineMs;
  return { ...f, baselineMs, changePct: Math.round((ratio - 1) * 1000) / 10, severity: ratio >= s.criticalRatio ? 'critical' : 'warning' };
}

function hasEnoughData(recent: SeriesBucket[], baseline: SeriesBucket[], s: DetectorSettings): boolean {
  return (
    recent.length >= s.minRecentBuckets &&
    baseline.length >= s.minBaselineBuckets &&
    sumSamples(recent) >= s.minRecentSamples &&
    sumSamples(baseline) >= s.minBaselineSamples
  );
}

function isBackAtBaseline(window: SeriesBucket[], alertBaselineMs: number, s: DetectorSettings): boolean {
  // The window must be (mostly) covered by data: silence is not recovery.
  const expected = Math.floor(s.resolveAfterMs / s.stepMs);
  if (window.length < Math.max(1, Math.ceil(expected * 0.6))) return false;
  return quantile(window.map((b) => b.p50), 0.75) <= alertBaselineMs * (1 + s.minChange);
}

/** Median of all pairwise ratios x_i / y_j: the Hodges-Lehmann shift estimate on the log scale. */
export function hodgesLehmannRatio(x: readonly number[], y: readonly number[]): number {
  const lx = x.filter((v) => v > 0).map(Math.log);
  const ly = y.filter((v) => v > 0).map(Math.log);
  const diffs = new Float64Array(lx.length * ly.length);
  let k = 0;
  for (const a of lx) for (const b of ly) diffs[k++] = a - b;
  if (k === 0) return 1;
  diffs.sort();
  const mid = (k - 1) / 2;
  return Math.exp((diffs[Math.floor(mid)]! + diffs[Math.ceil(mid)]!) / 2);
}

function groupBySeries(buckets: readonly SeriesBucket[], endMs: number): Map<string, SeriesBucket[]> {
  const out = new Map<string, SeriesBucket[]>();
  for (const b of buckets) {
    // A bucket that is still filling (or from a clock ahead of ours) waits for the next pass.
    if (b.startMs >= endMs || b.samples <= 0) continue;
    const k = key(b.popCode, b.functionName);
    let list = out.get(k);
    if (!list) out.set(k, (list = []));
    list.push(b);
  }
  for (const list of out.values()) list.sort((a, b) => a.startMs - b.startMs);
  return out;
}

const key = (pop: string, fn: string) => `${pop}\u0000${fn}`;
const sumSamples = (bs: SeriesBucket[]) => bs.reduce((n, b) => n + b.samples, 0);
const round3 = (v: number) => Math.round(v * 1000) / 1000;

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** Linear interpolation between ranks (as the stores' quantile_cont). */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}
