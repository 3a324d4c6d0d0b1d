/**
 * The read side: turns store aggregates plus the POP catalog into the API's
 * answers. The set of known POPs is the catalog plus every POP the data has
 * mentioned, so a POP written by any client appears on the map at once.
 */
import type { FunctionInfo, HeatmapEntry, Overview, Pop, PopDetail, Timeseries } from '@edgeworker/schema';
import type { FunctionSpec, PopInfo } from '@edgeworker/pops';
import type { AggregateStats, MetricsStore, Resolution, TimeRange } from '../stores/metrics-store.ts';
import { AppError } from '../http/errors.ts';
import { statusOf, type Thresholds } from './status.ts';

export interface QueryDeps {
  store: MetricsStore;
  catalog: readonly PopInfo[];
  functions: readonly FunctionSpec[];
  thresholds: Thresholds;
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
    const [pops, summary] = await Promise.all([knownPops(), deps.store.summarize(lastWindow(windowMs), { functionName })]);
    const stats = new Map(summary.byPop.map((p) => [p.popCode, p]));
    const entries = pops.map((p) => {
      const s = stats.get(p.code);
      return {
        popCode: p.code, city: p.city, country: p.country, tier: p.tier, lat: p.lat, lon: p.lon,
        coldStartTime: s?.mean ?? null,
        p95: s?.p95 ?? null,
        samples: s?.samples ?? 0,
        status: statusOf(s?.mean ?? null, s?.samples ?? 0, deps.thresholds),
      };
    });
    return { entries, resolution: summary.resolution };
  }

  async function overview(windowMs: number, windowLabel: string, functionName?: string): Promise<Overview> {
    const [pops, summary, regressions, latestNs] = await Promise.all([
      knownPops(),
      // Per-POP counts and means decide the statuses; percentiles are only shown fleet-wide.
      deps.store.summarize(lastWindow(windowMs), { functionName }, { popQuantiles: false }),
      deps.openRegressions(),
      deps.store.latestSampleNs(),
    ]);
    const counts = { healthy: 0, warning: 0, critical: 0, no_data: 0 };
    const stats = new Map(summary.byPop.map((p) => [p.popCode, p]));
    for (const p of pops) {
      const s = stats.get(p.code);
      counts[statusOf(s?.mean ?? null, s?.samples ?? 0, deps.thresholds)]++;
    }
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
      thresholds: { ...deps.thresholds },
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
    const [summary, fns] = await Promise.all([deps.store.summarize(range, { popCode: pop.code }), deps.store.byFunction(pop.code, range)]);
    const own: AggregateStats = summary.byPop.find((p) => p.popCode === pop.code) ?? { samples: 0, mean: null, p50: null, p95: null, p99: null };
    return {
      pop,
      window: windowLabel,
      status: statusOf(own.mean, own.samples, deps.thresholds),
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
        status: statusOf(f.mean, f.samples, deps.thresholds),
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
