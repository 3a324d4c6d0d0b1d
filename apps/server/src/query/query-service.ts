/**
 * The read side: turns store aggregates plus the POP catalog into the API's
 * answers. The set of known POPs is the catalog plus every POP the data has
 * mentioned, so a POP written by any client appears on the map at once.
 */
import type { FunctionInfo, HeatmapEntry, Overview, Pop, PopDetail, PopStatus, Timeseries } from '@edgeworker/schema';
import type { FunctionSpec, PopInfo } from '@edgeworker/pops';
import type { AggregateStats, MetricsStore, Resolution, TimeRange } from '../stores/metrics-store.ts';
import { AppError } from '../http/errors.ts';
import { popStatus, statusOf, thresholdsFor, type StatusPolicy, type Thresholds } from './status.ts';
import { MIN_OUTAGE_POPS, OUTAGE_SHARE, popsSeen, SILENCE_LOOKBACK_MS, SILENCE_STEP_MS, silentAt, type PopSeen } from './pop-silence.ts';

export interface QueryDeps {
  store: MetricsStore;
  catalog: readonly PopInfo[];
  functions: readonly FunctionSpec[];
  /** Status thresholds: a default pair and pairs per function (STATUS_THRESHOLDS over the catalog's). */
  thresholds: StatusPolicy;
  /**
   * A POP whose newest sample is older than this is `no_data` on the map (default: never); one
   * whose samples come sparsely, once it is silent for longer than usual (pop-silence.ts).
   */
  noDataAfterMs?: number;
  maxPoints: number;
  now: () => number;
  /** Open regression alerts; the detector provides it. */
  openRegressions: () => Promise<number>;
}

export type QueryService = ReturnType<typeof createQueryService>;

const msToNs = (ms: number) => BigInt(Math.floor(ms)) * 1_000_000n;
const iso = (ms: number) => new Date(ms).toISOString();

export function createQueryService(deps: QueryDeps) {
  const catalogByCode = new Map(deps.catalog.map((p) => [p.code.toUpperCase(), p]));
  // The catalog's pairs underneath, configured ones on top.
  const catalogThresholds: Record<string, Thresholds> = {};
  for (const f of deps.functions) if (f.warnMs && f.critMs) catalogThresholds[f.name] = { warnMs: f.warnMs, critMs: f.critMs };
  const policy: StatusPolicy = { ...deps.thresholds, functions: { ...catalogThresholds, ...deps.thresholds.functions } };

  /**
   * Status of every POP over a range: the worst of its functions' (each against its own pair),
   * no_data for a POP silent (silentPops). One store call for every series' count and
   * mean, planned like the heatmap itself (rollups for long windows, no percentiles).
   */
  async function popStatuses(range: TimeRange, windowMs: number, functionName?: string): Promise<Map<string, PopStatus>> {
    const [buckets, recent] = await Promise.all([deps.store.seriesMeans(range, functionName !== undefined ? { functionName } : undefined), recentlyReporting(windowMs)]);
    const perPop = new Map<string, Map<string, { sum: number; samples: number }>>();
    for (const b of buckets) {
      if (functionName !== undefined && b.functionName !== functionName) continue;
      let fns = perPop.get(b.popCode);
      if (!fns) perPop.set(b.popCode, (fns = new Map()));
      const acc = fns.get(b.functionName) ?? { sum: 0, samples: 0 };
      acc.sum += b.mean * b.samples;
      acc.samples += b.samples;
      fns.set(b.functionName, acc);
    }
    const out = new Map<string, PopStatus>();
    for (const [pop, fns] of perPop) {
      out.set(pop, popStatus([...fns].map(([fn, a]) => ({ functionName: fn, mean: a.samples ? a.sum / a.samples : null, samples: a.samples })), policy));
    }
    for (const pop of await silentPops(recent, out.keys())) out.set(pop, 'no_data');
    return out;
  }

  /**
   * Of the POPs with data in the window, those silent: none in the last noDataAfterMs (recent) and,
   * for one whose samples come sparsely, none for longer than it usually goes (pop-silence.ts):
   * their last hour is read (those POPs only, at 1-minute buckets) when any is quiet, and not when
   * so many are that it is an outage. A failed read leaves the quiet ones no_data, as before.
   */
  async function silentPops(recent: Set<string> | null, withData: Iterable<string>): Promise<string[]> {
    if (!recent || !deps.noDataAfterMs) return [];
    const all = [...withData];
    const quiet = all.filter((pop) => !recent.has(pop));
    if (quiet.length === 0 || (quiet.length > MIN_OUTAGE_POPS && quiet.length > OUTAGE_SHARE * all.length)) return quiet;
    let seen: Map<string, PopSeen>;
    try {
      // One bucket per (POP, function, minute): popsSeen adds a POP's functions up.
      seen = popsSeen(await deps.store.seriesBuckets(lastWindow(SILENCE_LOOKBACK_MS), SILENCE_STEP_MS, { pops: quiet }));
    } catch {
      return quiet;
    }
    const now = deps.now();
    return quiet.filter((pop) => silentAt(now, deps.noDataAfterMs!, seen.get(pop)));
  }

  /**
   * POPs with a sample in the last noDataAfterMs, when the window is longer than that (else the
   * window's own samples say it): a POP with samples in the window but none of late is silent.
   * Read from the data (one small range), so it holds for every store and after a restart.
   */
  async function recentlyReporting(windowMs: number): Promise<Set<string> | null> {
    const after = deps.noDataAfterMs;
    if (!after || windowMs <= after) return null;
    return new Set((await deps.store.seriesMeans(lastWindow(after))).map((m) => m.popCode));
  }

  function lastWindow(windowMs: number): TimeRange {
    const now = deps.now();
    // +1 ms so a sample stamped "now" by the writer is inside the half-open range.
    return { fromNs: msToNs(now - windowMs), toNs: msToNs(now + 1) };
  }

  async function knownPops(): Promise<Pop[]> {
    const pops: Pop[] = deps.catalog.map((p) => ({ code: p.code, city: p.city, country: p.country, tier: p.tier, lat: p.lat, lon: p.lon, source: 'catalog' }));
    for (const s of await deps.store.seenPops()) {
      if (catalogByCode.has(s.popCode.toUpperCase())) continue;
      pops.push({ code: s.popCode, city: s.city, country: s.country, tier: s.tier, lat: s.lat, lon: s.lon, source: 'data' });
    }
    return pops.sort((a, b) => a.code.localeCompare(b.code));
  }

  /** The heatmap and the resolution that answered it (arrays carry it in the X-Resolution header). */
  async function heatmap(windowMs: number, functionName?: string): Promise<{ entries: HeatmapEntry[]; resolution: Resolution }> {
    const range = lastWindow(windowMs);
    const [pops, summary, statuses] = await Promise.all([knownPops(), deps.store.summarize(range, { functionName }), popStatuses(range, windowMs, functionName)]);
    const stats = new Map(summary.byPop.map((p) => [p.popCode, p]));
    const entries = pops.map((p) => {
      const s = stats.get(p.code);
      return {
        popCode: p.code, city: p.city, country: p.country, tier: p.tier, lat: p.lat, lon: p.lon,
        coldStartTime: s?.mean ?? null,
        p95: s?.p95 ?? null,
        samples: s?.samples ?? 0,
        status: statuses.get(p.code) ?? 'no_data',
      };
    });
    return { entries, resolution: summary.resolution };
  }

  async function overview(windowMs: number, windowLabel: string, functionName?: string): Promise<Overview> {
    const range = lastWindow(windowMs);
    const [pops, summary, regressions, latestNs, statuses] = await Promise.all([
      knownPops(),
      // Per-POP counts and means decide the statuses; percentiles are only shown fleet-wide.
      deps.store.summarize(range, { functionName }, { popQuantiles: false }),
      deps.openRegressions(),
      deps.store.latestSampleNs(),
      popStatuses(range, windowMs, functionName),
    ]);
    const counts = { healthy: 0, warning: 0, critical: 0, no_data: 0 };
    for (const p of pops) counts[statuses.get(p.code) ?? 'no_data']++;
    return {
      totalPops: pops.length,
      healthyPops: counts.healthy,
      warningPops: counts.warning,
      criticalPops: counts.critical,
      noDataPops: counts.no_data,
      averageColdStart: summary.overall.mean,
      p50: summary.overall.p50,
      p95: summary.overall.p95,
      p99: summary.overall.p99,
      samples: summary.overall.samples,
      regressions,
      window: windowLabel,
      thresholds: { warnMs: policy.warnMs, critMs: policy.critMs, functions: { ...policy.functions } },
      latestSampleAt: latestNs === null ? null : iso(Number(latestNs / 1_000_000n)),
      updatedAt: iso(deps.now()),
      resolution: summary.resolution,
    };
  }

  async function findPop(code: string): Promise<Pop> {
    const pop = (await knownPops()).find((p) => p.code.toUpperCase() === code.toUpperCase());
    if (!pop) throw new AppError('pop_not_found', `no POP with code ${code} in the catalog or the data`, 404);
    return pop;
  }

  async function popDetail(code: string, windowMs: number, windowLabel: string): Promise<PopDetail> {
    const pop = await findPop(code);
    const range = lastWindow(windowMs);
    const [summary, fns, recent] = await Promise.all([deps.store.summarize(range, { popCode: pop.code }), deps.store.byFunction(pop.code, range), recentlyReporting(windowMs)]);
    const own: AggregateStats = summary.byPop.find((p) => p.popCode === pop.code) ?? { samples: 0, mean: null, p50: null, p95: null, p99: null };
    return {
      pop,
      window: windowLabel,
      status: (await silentPops(recent, fns.some((f) => f.samples > 0) ? [pop.code] : [])).length > 0 ? 'no_data' : popStatus(fns, policy),
      coldStartTime: own.mean,
      p50: own.p50,
      p95: own.p95,
      p99: own.p99,
      samples: own.samples,
      functions: fns.map((f) => ({
        functionName: f.functionName,
        coldStartTime: f.mean,
        p50: f.p50,
        p95: f.p95,
        p99: f.p99,
        samples: f.samples,
        status: statusOf(f.mean, f.samples, thresholdsFor(policy, f.functionName)),
      })),
      resolution: summary.resolution,
    };
  }

  async function timeseries(code: string, fromMs: number, toMs: number, stepMs: number, functionName?: string): Promise<Timeseries> {
    if (toMs <= fromMs) throw new AppError('invalid_range', `from must be before to (from=${iso(fromMs)}, to=${iso(toMs)})`, 400);
    const first = Math.floor(fromMs / stepMs) * stepMs;
    const count = Math.ceil((toMs - first) / stepMs);
    if (count > deps.maxPoints) {
      throw new AppError(
        'too_many_points',
        `this range and step give ${count} points; the limit is ${deps.maxPoints}: use a larger step or a shorter range`,
        400,
      );
    }
    const pop = await findPop(code);
    const { buckets, resolution } = await deps.store.timeseries(pop.code, { fromNs: msToNs(first), toNs: msToNs(toMs) }, stepMs, { functionName });
    const byStart = new Map(buckets.map((b) => [b.startMs, b]));
    const points = [];
    for (let i = 0; i < count; i++) {
      const t = first + i * stepMs;
      const b = byStart.get(t);
      points.push({ t, mean: b?.mean ?? null, p50: b?.p50 ?? null, p95: b?.p95 ?? null, p99: b?.p99 ?? null, samples: b?.samples ?? 0 });
    }
    return { popCode: pop.code, functionName: functionName ?? null, from: iso(fromMs), to: iso(toMs), stepMs, points, resolution };
  }

  async function functions(): Promise<FunctionInfo[]> {
    const list: FunctionInfo[] = deps.functions.map((f) => ({ name: f.name, description: f.description }));
    const known = new Set(list.map((f) => f.name));
    for (const name of await deps.store.seenFunctions()) {
      if (!known.has(name)) list.push({ name, description: 'seen in ingested data' });
    }
    return list;
  }

  return { overview, heatmap, knownPops, popDetail, timeseries, functions, findPop };
}
