/**
 * No-data detection: what reported steadily and went silent, while others keep reporting.
 * Pure, like the engine it reads from (the newest bucket of every series it holds).
 *
 *   steady  = at least minBuckets buckets in the engine's history, at a cadence of at most
 *             half the silence threshold (a series that reports every 10 min is not
 *             "silent" after 3 min)
 *   silent  = a steady series whose newest bucket ended at least max(afterMs, 3 cadences) ago
 *
 * One alert per scope, the widest that fits:
 *   - nothing at all arrived for afterMs (every series silent): ONE pipeline alert,
 *     popCode '*' and functionName '*', instead of one per POP;
 *   - every series of a POP silent while others report: ONE alert for the POP, functionName '*';
 *   - otherwise one alert per silent (POP, function).
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

export function evaluateNoData(seen: Iterable<SeenSeries>, unresolved: readonly Alert[], endMs: number, s: NoDataSettings): NoDataEvaluation {
  const all = [...seen];
  const lastEnd = (x: SeenSeries) => x.lastMs + s.stepMs;
  const steady = (x: SeenSeries) => x.buckets >= s.minBuckets && x.cadenceMs <= s.afterMs / 2;
  const silent = (x: SeenSeries) => steady(x) && endMs - lastEnd(x) >= Math.max(s.afterMs, 3 * x.cadenceMs);

  const raise: NoDataFinding[] = [];
  const newest = all.reduce((m, x) => Math.max(m, lastEnd(x)), -Infinity);
  const pipelineSilent = all.some(steady) && endMs - newest >= s.afterMs;
  if (pipelineSilent) {
    raise.push({ popCode: ALL, functionName: ALL, severity: 'critical', baselineMs: 0, lastSeenMs: newest, silentSeries: all.filter(steady).length });
  } else {
    const byPop = new Map<string, SeenSeries[]>();
    for (const x of all) {
      let list = byPop.get(x.popCode);
      if (!list) byPop.set(x.popCode, (list = []));
      list.push(x);
    }
    for (const [pop, list] of byPop) {
      const quiet = list.filter(silent);
      if (quiet.length === 0) continue;
      // The POP as a whole: nothing of it arrived for afterMs, and what went quiet was steady.
      const popNewest = list.reduce((m, x) => Math.max(m, lastEnd(x)), -Infinity);
      if (endMs - popNewest >= s.afterMs && quiet.length === list.filter(steady).length) {
        raise.push({ popCode: pop, functionName: ALL, severity: 'critical', baselineMs: 0, lastSeenMs: popNewest, silentSeries: quiet.length });
        continue;
      }
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
