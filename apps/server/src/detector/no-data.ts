/**
 * No-data detection: what reported steadily and went silent, while others keep reporting.
 * Pure, like the engine it reads from (the newest bucket of every series it holds).
 *
 *   steady  = at least minBuckets buckets in the engine's history, over at least afterMs (a
 *             silence is judged against at least as long a record: a series seen 7 times
 *             in its first 2 minutes has not shown what is ordinary for it), at a cadence of
 *             at most half the silence threshold (a series that reports every 10 min is not
 *             "silent" after 3 min)
 *   silent  = a steady series whose newest bucket ended at least max(afterMs, 3 cadences, its
 *             usual silence) ago
 *
 * Its usual silence (usualSilenceMs, from the engine) is the longest gap its own recent gaps
 * make ordinary (longer while its function's whole fleet reports slower than the hour before).
 * A series whose samples come at random (cold starts are events: a quiet POP's
 * arrive when its traffic happens to miss a warm instance) has long gaps by chance: one that
 * reports every 30 s on average goes 3 minutes without a sample about once every 3 hours, and
 * "3 cadences" of it (the median gap, ~20 s) is shorter still. Judged by afterMs alone, such
 * series flapped: ~260 no_data alerts per 1000 series-hours at a 30 s mean, ~2,600 at 60 s
 * (bench/eval-no-data.ts, docs/notes/sparse.md). A series that reports like a clock has no such tail, and its usual
 * silence is below afterMs: nothing changes for it.
 *
 * One alert per scope, the widest that fits:
 *   - nothing at all arrived for afterMs (every series silent): ONE pipeline alert,
 *     popCode '*' and functionName '*', instead of one per POP;
 *   - a function silent at every POP that runs it (at least two) while others report: ONE alert
 *     for the function, popCode '*' (a deploy that breaks it everywhere is one page, not one per POP);
 *   - every series of a POP silent while others report: ONE alert for the POP, functionName '*'
 *     (unless every one of them belongs to a function silent everywhere: that alert covers it);
 *   - otherwise one alert per silent (POP, function) not covered by its function's alert.
 * A scope of several series is judged on their samples together: its usual silence is the
 * pooled one (their arrival rates add up, so 1 / sum(1 / usual)), which is why a POP whose ten
 * sparse functions all stop gets its alert after afterMs, not after the slowest one's silence.
 * An alert resolves when data newer than its lastSeenAt arrives for its scope; a series the
 * engine has forgotten (silent for its whole history span) keeps its alert open.
 */
import { ALL, type Alert } from '@edgeworker/schema';
import type { NoDataFinding } from '../alerts/types.ts';

export interface SeenSeries {
  popCode: string;
  functionName: string;
  /** Start of the newest bucket with data, epoch ms. */
  lastMs: number;
  /** Median gap between its buckets, ms. */
  cadenceMs: number;
  /** Buckets in the engine's history. */
  buckets: number;
  /** Start of the oldest bucket of it held, epoch ms. */
  firstMs: number;
}

export interface NoDataSettings {
  afterMs: number;
  stepMs: number;
  /** Fewest buckets of history for a series to count as reporting steadily. */
  minBuckets: number;
}

export interface NoDataEvaluation {
  raise: NoDataFinding[];
  /** Ids of unresolved no_data alerts whose scope reports again. */
  resolve: string[];
}

/**
 * usualSilenceMs: the longest gap a series' own recent gaps make ordinary (the engine's
 * usualSilence); asked only of series already silent for afterMs. Without it, 0 (afterMs and
 * 3 cadences alone).
 */
export function evaluateNoData(seen: Iterable<SeenSeries>, unresolved: readonly Alert[], endMs: number, s: NoDataSettings, usualSilenceMs: (x: SeenSeries) => number = () => 0): NoDataEvaluation {
  const all = [...seen];
  const lastEnd = (x: SeenSeries) => x.lastMs + s.stepMs;
  const steady = (x: SeenSeries) => x.buckets >= s.minBuckets && x.lastMs - x.firstMs >= s.afterMs && x.cadenceMs <= s.afterMs / 2;
  /** How long this series alone must be silent: what is ordinary for it is not silence. */
  const ownSilence = (x: SeenSeries) => Math.max(3 * x.cadenceMs, usualSilenceMs(x));
  // afterMs first: the usual silence is asked of series already that silent only.
  const silent = (x: SeenSeries) => steady(x) && endMs - lastEnd(x) >= s.afterMs && endMs - lastEnd(x) >= ownSilence(x);
  /**
   * How long a scope of several series must be silent together: their rates add, so the pooled
   * silence is 1 / sum(1 / each one's). Asked only once the scope has been silent for afterMs.
   * Only the series that still reported when the scope last did are pooled: one that had already
   * been silent past its own limit by then had stopped (its rate is 0, and it has an alert of its
   * own). Pooled anyway, a POP whose four sparse functions of five stopped was judged as if all
   * five still reported, and its "*" alert opened at every ordinary gap of the one left until the
   * engine forgot the four (at a 60 s mean: about twice per POP-hour; bench/eval-no-data.ts with
   * EVAL_DROP_KEEP=1).
   */
  const poolOf = (list: SeenSeries[], newestEnd: number) => {
    const stoppedBefore = (x: SeenSeries) => newestEnd - lastEnd(x) >= s.afterMs && newestEnd - lastEnd(x) >= ownSilence(x);
    return list.filter((x) => steady(x) && !stoppedBefore(x));
  };
  const pooledSilent = (pooled: SeenSeries[], newestEnd: number) => {
    const silentForMs = endMs - newestEnd;
    if (silentForMs < s.afterMs || pooled.length === 0) return false;
    let rate = 0;
    for (const x of pooled) rate += 1 / ownSilence(x);
    return silentForMs >= 1 / rate;
  };
  const newestOf = (list: SeenSeries[]) => list.reduce((m, x) => Math.max(m, lastEnd(x)), -Infinity);

  const raise: NoDataFinding[] = [];
  const newest = newestOf(all);
  // afterMs first: a scope's pool asks the usual silence of its series silent that long only.
  const pipelineSilent = endMs - newest >= s.afterMs && pooledSilent(poolOf(all, newest), newest);
  if (pipelineSilent) {
    raise.push({ popCode: ALL, functionName: ALL, severity: 'critical', baselineMs: 0, lastSeenMs: newest, silentSeries: all.filter(steady).length });
  } else {
    // A function as a whole, at every POP that runs it: pooled like a POP, from two series up.
    const silentFunctions = new Set<string>();
    // The series of a function that has sent nothing anywhere for a bucket or more: its own alert
    // waits for the function's (a series whose last sample came a few seconds before the others'
    // passes its own limit first, and was paged before the function's alert covered it).
    const waiting = new Set<SeenSeries>();
    for (const [fn, list] of groupBy(all, (x) => x.functionName)) {
      const fnNewest = newestOf(list);
      if (endMs - fnNewest < s.stepMs) continue;
      const pooled = poolOf(list, fnNewest);
      if (pooled.length < 2) continue;
      if (!pooledSilent(pooled, fnNewest)) {
        for (const x of pooled) waiting.add(x);
        continue;
      }
      silentFunctions.add(fn);
      raise.push({ popCode: ALL, functionName: fn, severity: 'critical', baselineMs: 0, lastSeenMs: fnNewest, silentSeries: list.filter(steady).length });
    }
    // A function whose alert is open covers its series until it reports again, also once the engine
    // has forgotten all but one of them (silent for its whole span): that one was paged on its own.
    for (const a of unresolved) {
      if (a.type !== 'no_data' || a.popCode !== ALL || a.functionName === ALL || silentFunctions.has(a.functionName)) continue;
      const since = Date.parse(a.lastSeenAt ?? a.createdAt);
      if (!all.some((x) => x.functionName === a.functionName && lastEnd(x) > since)) silentFunctions.add(a.functionName);
    }
    for (const [pop, list] of groupBy(all, (x) => x.popCode)) {
      // The POP as a whole: nothing of it arrived for afterMs, nor for what its steady series together make ordinary.
      const popNewest = newestOf(list);
      if (endMs - popNewest >= s.afterMs && pooledSilent(poolOf(list, popNewest), popNewest)) {
        // A POP that runs only functions silent everywhere is silent because they are: their alerts say so.
        if (!list.filter(steady).every((x) => silentFunctions.has(x.functionName))) {
          raise.push({ popCode: pop, functionName: ALL, severity: 'critical', baselineMs: 0, lastSeenMs: popNewest, silentSeries: list.filter(steady).length });
        }
        continue;
      }
      const quiet = list.filter((x) => !silentFunctions.has(x.functionName) && !waiting.has(x) && silent(x));
      for (const x of quiet) raise.push({ popCode: pop, functionName: x.functionName, severity: 'warning', baselineMs: 0, lastSeenMs: lastEnd(x) });
    }
  }

  // Resolve what reports again: data newer than the alert's last sample, in its scope.
  const raised = new Set(raise.map((f) => `${f.popCode}\u0000${f.functionName}`));
  const resolve: string[] = [];
  for (const a of unresolved) {
    if (a.type !== 'no_data' || raised.has(`${a.popCode}\u0000${a.functionName}`)) continue;
    const since = a.lastSeenAt ? Date.parse(a.lastSeenAt) : Date.parse(a.createdAt);
    const inScope = all.filter((x) => (a.popCode === ALL || x.popCode === a.popCode) && (a.functionName === ALL || x.functionName === a.functionName));
    if (inScope.some((x) => lastEnd(x) > since)) resolve.push(a.id);
  }
  // Already-open alerts stay as they are: only new scopes are raised.
  const open = new Set(unresolved.filter((a) => a.type === 'no_data').map((a) => `${a.popCode}\u0000${a.functionName}`));
  return { raise: raise.filter((f) => !open.has(`${f.popCode}\u0000${f.functionName}`)), resolve };
}

function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    let list = out.get(k);
    if (!list) out.set(k, (list = []));
    list.push(x);
  }
  return out;
}
